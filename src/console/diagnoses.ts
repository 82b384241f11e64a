/**
 * Every SCIM error this server answers, as plain language for the tenant's IT admin (issue 14):
 * what happened, and the fix in the IdP's own terms. One table, as data: a log entry is matched
 * on status × scimType × method × resource (and, where one status means several things, on its
 * detail), the first matching rule wins, and each (status, scimType) pair ends in a catch-all.
 * test/unit/diagnoses.test.ts fails when the source emits an error this table does not explain.
 */
import type { ScimType } from "../scim/errors";

export type IdpKind = "okta" | "entra" | "generic";
export type ResourceClass = "Users" | "Groups" | "discovery" | "other";

export interface Diagnosis {
  id: string;
  status: number;
  scimType: ScimType | null;
  methods?: readonly string[];
  resources?: readonly ResourceClass[];
  /** Matched against the error's detail, for a status that means several things. */
  detail?: RegExp;
  /** What happened, in plain language. */
  summary: string;
  /** What to do, in the IdP's terms when they differ. */
  fix: { default: string } & Partial<Record<IdpKind, string>>;
}

const WRITES = ["POST", "PUT", "PATCH"] as const;

export const DIAGNOSES: readonly Diagnosis[] = [
  // 409 uniqueness: who already has the name decides the fix.
  {
    id: "user-account-exists-linking-off",
    status: 409, scimType: "uniqueness", resources: ["Users"], detail: /does not link existing accounts/,
    summary: "A user with this userName or email already exists in the app, and linking is off.",
    fix: { default: "Turn linking on (“link existing users”: ask the app's operator), or remove the duplicate account in the app, then retry the user in your IdP." },
  },
  {
    id: "user-name-taken",
    status: 409, scimType: "uniqueness", resources: ["Users"],
    summary: "Another provisioned user already has this userName (userName is compared without case).",
    fix: {
      default: "Two IdP users map to the same userName: give them different ones, or delete the stale user, then retry.",
      okta: "In Okta, two assigned people map to the same userName: fix the username mapping (Provisioning → To App → attribute mappings), or unassign the duplicate, then retry the task under Dashboard → Tasks.",
      entra: "In Entra, two assigned users map to the same userName: fix the userName mapping (Provisioning → Mappings) or remove the duplicate assignment, then use “Provision on demand” for the user.",
    },
  },
  {
    id: "group-linking-off",
    status: 409, scimType: "uniqueness", resources: ["Groups"], detail: /does not link existing groups/,
    summary: "The app already has a group with this name, and linking is off.",
    fix: { default: "Ask the app's operator to turn linking on, or rename the group in your IdP." },
  },
  {
    id: "group-name-taken",
    status: 409, scimType: "uniqueness",
    summary: "Another provisioned group already has this display name (compared without case).",
    fix: {
      default: "Rename one of the two groups in your IdP, or delete the stale one here, then retry.",
      okta: "In Okta, open Push Groups: the group may already be pushed under another rule. Link it to the existing group instead of creating it.",
    },
  },
  {
    id: "concurrent-write",
    status: 409, scimType: null,
    summary: "Another change to the same user or group arrived at the same time and kept winning.",
    fix: { default: "Nothing to change: the IdP retries on its next cycle. If it persists, two IdPs or jobs are writing the same resource." },
  },
  // 400 invalidValue: the unknown member first, it has its own fix.
  {
    id: "unknown-member",
    status: 400, scimType: "invalidValue", resources: ["Groups"], detail: /member|Member/,
    summary: "The IdP pushed a group naming a member that was never provisioned to the app.",
    fix: {
      default: "Provision the user first, then push the group again.",
      okta: "Assign the user to the app in Okta first (Assignments tab), then push the group again (Push Groups → Push now).",
      entra: "Assign the user to the app in Entra first (Users and groups), or set Scope to include them; the next cycle adds the membership.",
    },
  },
  {
    id: "invalid-value",
    status: 400, scimType: "invalidValue",
    summary: "The IdP sent a value this app cannot accept (the detail names the attribute).",
    fix: {
      default: "Fix the attribute named in the detail in your IdP's mapping or the user's profile.",
      okta: "Check Provisioning → To App → attribute mappings for the attribute named in the detail, and the person's profile.",
      entra: "Check Provisioning → Mappings for the attribute named in the detail, then “Provision on demand” the user.",
    },
  },
  {
    id: "invalid-syntax",
    status: 400, scimType: "invalidSyntax",
    summary: "The request body was not valid SCIM JSON.",
    fix: { default: "Usually an IdP attribute mapping produces a wrong type (a list where one value is expected): check the mapping named in the detail." },
  },
  {
    id: "invalid-filter",
    status: 400, scimType: "invalidFilter",
    summary: "The IdP searched with a filter this server does not accept.",
    fix: { default: "Check the matching attribute: keep userName (users) and displayName (groups) as the matching attributes in your IdP." },
  },
  {
    id: "invalid-path",
    status: 400, scimType: "invalidPath",
    summary: "A PATCH named an attribute path that does not exist.",
    fix: { default: "A custom attribute mapping targets an attribute this app does not have: remove or rename it in the IdP's mappings." },
  },
  {
    id: "no-target",
    status: 400, scimType: "noTarget",
    summary: "A PATCH filter matched no value to change.",
    fix: { default: "Usually harmless: the IdP changes a value the user does not have. If it repeats, re-push the user in full." },
  },
  {
    id: "mutability",
    status: 400, scimType: "mutability",
    summary: "The IdP tried to change a read-only attribute (such as id or meta).",
    fix: { default: "Remove the mapping that writes a read-only attribute (the detail names it)." },
  },
  {
    id: "sensitive",
    status: 400, scimType: "sensitive",
    summary: "The request put a sensitive value where it would be logged (for example in a URL).",
    fix: { default: "Send it in the body instead; contact the app's support if your IdP cannot." },
  },
  {
    id: "too-many",
    status: 400, scimType: "tooMany",
    summary: "The request was too large: too many operations, members or results at once.",
    fix: { default: "The IdP splits large changes on retry; if it keeps failing, push the group in smaller batches." },
  },
  {
    id: "invalid-cursor",
    status: 400, scimType: "invalidCursor",
    summary: "The IdP sent a paging cursor this server did not issue or that has expired.",
    fix: { default: "Restart the import; the next cycle pages from the beginning." },
  },
  {
    id: "bad-request",
    status: 400, scimType: null,
    summary: "The request was malformed.",
    fix: { default: "Check the detail; if the IdP keeps sending it, contact the app's support with the time of the request." },
  },
  // Authentication and permission.
  {
    id: "unauthorized",
    status: 401, scimType: null,
    summary: "The IdP's token was refused (missing, wrong or replaced by a newer one).",
    fix: {
      default: "Paste the current token into your IdP. If you rotated it, the IdP still uses the previous token.",
      okta: "In Okta, Provisioning → Integration → Edit: paste the current token as Authorization (HTTP Header), then Test Connector Configuration.",
      entra: "In Entra, Provisioning → Admin Credentials: paste the current token as Secret Token, then Test Connection.",
    },
  },
  {
    id: "sync-off",
    status: 403, scimType: null, detail: /provisioning is turned off/,
    summary: "User or group sync is turned off for this organisation, so the IdP's change was refused.",
    fix: { default: "Turn the sync on under Settings, or stop sending that resource type from your IdP." },
  },
  {
    id: "tenant-disabled",
    status: 403, scimType: null, detail: /disabled/,
    summary: "SCIM is disabled for this organisation: every IdP request is refused until it is enabled.",
    fix: { default: "Enable SCIM under Settings; the IdP retries on its next cycle." },
  },
  {
    id: "forbidden",
    status: 403, scimType: null,
    summary: "The server does not allow this request (for example a filter on a discovery endpoint).",
    fix: { default: "Check the detail; it is usually a connector setting the IdP lets you turn off." },
  },
  // Resources and protocol.
  {
    id: "not-found",
    status: 404, scimType: null, methods: [...WRITES, "DELETE"],
    summary: "The IdP changed a user or group that no longer exists here (deleted in the app, or never created).",
    fix: {
      default: "Re-provision it: the IdP creates it again on the next push.",
      okta: "In Okta, unassign and reassign the person (or re-push the group) so it is created again.",
      entra: "In Entra, use “Restart provisioning” or “Provision on demand”; Entra then creates it again.",
    },
  },
  {
    id: "not-found-read",
    status: 404, scimType: null,
    summary: "The IdP asked for something that does not exist here (a wrong URL or a deleted resource).",
    fix: { default: "Check that the IdP's base URL is exactly the SCIM base URL shown on the Overview page." },
  },
  {
    id: "method-not-allowed",
    status: 405, scimType: null,
    summary: "The IdP used a method this endpoint does not support.",
    fix: { default: "Check the base URL: it must end in /scim/v2/<organisation id>, with nothing after it." },
  },
  {
    id: "precondition-failed",
    status: 412, scimType: null,
    summary: "The resource changed since the IdP last read it (If-Match named an older version).",
    fix: { default: "Nothing to change: the IdP re-reads and retries." },
  },
  {
    id: "payload-too-large",
    status: 413, scimType: null,
    summary: "The request body was larger than this server accepts.",
    fix: { default: "A group with very many members is pushed in one request: push it in smaller batches, or contact support." },
  },
  {
    id: "unsupported-media-type",
    status: 415, scimType: null,
    summary: "The request body was not sent as JSON.",
    fix: { default: "Use a SCIM 2.0 connector: it sends application/scim+json." },
  },
  {
    id: "rate-limited",
    status: 429, scimType: null,
    summary: "The IdP sent more requests than this organisation's budget allows, or too many failed sign-ins.",
    fix: { default: "Nothing to change: the IdP waits (Retry-After) and retries. Check that only one IdP job is connected." },
  },
  {
    id: "server-error",
    status: 500, scimType: null,
    summary: "The server failed while answering; nothing was changed.",
    fix: { default: "The IdP retries. If it repeats, contact the app's support with the time of the request." },
  },
  {
    id: "not-implemented",
    status: 501, scimType: null,
    summary: "The IdP used a SCIM feature this server does not offer (Bulk or /Me).",
    fix: { default: "Turn that feature off in the IdP's connector; everything else works without it." },
  },
  {
    id: "not-configured",
    status: 503, scimType: null,
    summary: "The server is not fully configured by its operator.",
    fix: { default: "Contact the app's support: nothing you can change in the IdP fixes this." },
  },
];

export const UNKNOWN_DIAGNOSIS: Diagnosis = {
  id: "unknown",
  status: 0, scimType: null,
  summary: "The request failed.",
  fix: { default: "Check the detail; contact the app's support with the time of the request." },
};

/** Which resource a logged path addresses: `/scim/v2/{tenant}/Users/…` → Users. */
export function resourceClassOf(path: string): ResourceClass {
  const segment = /^\/scim\/v2\/[^/]+\/([^/?]+)/.exec(path)?.[1]?.toLowerCase();
  if (segment === "users") return "Users";
  if (segment === "groups") return "Groups";
  if (segment === "serviceproviderconfig" || segment === "resourcetypes" || segment === "schemas") return "discovery";
  return "other";
}

export interface FailedRequest {
  status: number;
  scimType: string | null;
  method: string;
  path: string;
  detail: string | null;
}

export function diagnose(entry: FailedRequest): Diagnosis {
  const resource = resourceClassOf(entry.path);
  const found = DIAGNOSES.find(
    (d) =>
      d.status === entry.status &&
      d.scimType === (entry.scimType ?? null) &&
      (!d.methods || d.methods.includes(entry.method.toUpperCase())) &&
      (!d.resources || d.resources.includes(resource)) &&
      (!d.detail || d.detail.test(entry.detail ?? "")),
  );
  return found ?? UNKNOWN_DIAGNOSIS;
}

export function fixFor(diagnosis: Diagnosis, idp: IdpKind): string {
  return diagnosis.fix[idp] ?? diagnosis.fix.default;
}

/** Failed authentications (aggregated, never logged per request) by the reason the server recorded. */
export const AUTH_FAILURE_HINTS: Record<"missing" | "malformed" | "unknown" | "rotated" | "other-tenant" | "disabled", string> = {
  missing: "The IdP sent no token. Enter the token in its connector settings (as a Bearer token / HTTP Header).",
  malformed: "The IdP sent something that is not a token of this app: paste the whole token, starting with scim_, with nothing around it.",
  unknown: "The IdP sent a token this app never issued (or one of a deleted connection): paste the current token.",
  rotated: "The IdP still uses the previous token: the token was rotated. Paste the new token into the IdP.",
  "other-tenant": "The IdP sent another organisation's token with this organisation's URL: check that base URL and token belong together.",
  disabled: "SCIM is disabled for this organisation, so even the right token is refused. Enable it under Settings.",
};
