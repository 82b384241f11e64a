/**
 * /setup/{code}: the tenant IT admin's self-serve onboarding. The form applies the tenant's
 * provisioning settings and issues its SCIM token, once per link; the result page is the
 * only place the token is ever shown.
 *
 * A link issues nothing when it is used, expired or revoked, when its tenant is disabled, when
 * the form was posted from another origin, or when it would silently void a token an IdP is
 * using (the admin must tick a confirmation first).
 */
import { tenantCatalog } from "../storage/roles";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { type AppEnv, publicOrigin, scimBaseUrl } from "../env";
import { ScimError } from "../scim/errors";
import type { SetupLinkRefusal, TenantRow, TenantSettings } from "../storage/tenants";
import { completeSetup, hasConnectedIdp, inspectSetupLink } from "../tenancy/tenant-service";
import { directoryDb, shardDb } from "../storage/shards";
import { enqueueTenantEvents } from "../webhooks/dispatch";
import { tenantSettingsFields } from "./tenant-settings";
import { createConsoleLink } from "../tenancy/console-session";
import { renderMessage, renderPage } from "./page-layout";
import {
  type SetupFormErrors,
  type SetupFormField,
  SetupFormPage,
  type SetupFormValues,
  SetupResultPage,
} from "./setup-views";

const MAX_FORM_BYTES = 64 * 1024;

const setupForm = z.object(tenantSettingsFields);
type SetupSettings = Pick<TenantSettings, keyof typeof tenantSettingsFields>;

function notFoundPage(c: Context<AppEnv>) {
  return renderMessage(c, 404, "Setup link not found", "This setup link is not valid. Check that you copied the whole link, or ask the application's administrator for a new one.");
}

const REFUSALS: Record<SetupLinkRefusal, { status: ContentfulStatusCode; title: string; message: string }> = {
  used: {
    status: 410,
    title: "Setup link already used",
    message:
      "This setup link has already been used. For security, SCIM credentials are shown only once — ask the application's administrator for a new link if you need new credentials.",
  },
  expired: {
    status: 410,
    title: "Setup link expired",
    message: "This setup link has expired — ask the application's administrator for a new link.",
  },
  revoked: {
    status: 410,
    title: "Setup link revoked",
    message:
      "This setup link was revoked by the application's administrator, or replaced by a newer link. Use the newest link you received, or ask for a new one.",
  },
  disabled: {
    status: 403,
    title: "SCIM provisioning is disabled",
    message:
      "SCIM provisioning is disabled for this organisation; ask the operator to enable it. This link issues no credentials until then.",
  },
};

function refusedPage(c: Context<AppEnv>, reason: SetupLinkRefusal) {
  const { status, title, message } = REFUSALS[reason];
  return renderMessage(c, status, title, message);
}

/**
 * The form POST must come from our own page, served at the public origin the link names:
 * browsers send `Origin` on every form POST, so a missing one is refused too. Another site
 * cannot make an admin's browser redeem a link.
 */
const sameOriginForm = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("Origin");
  if (origin === new URL(publicOrigin(c.env, c.req.url)).origin) return next();
  return renderMessage(c, 403, "Form not accepted", "This form was not submitted from its setup page, so nothing was changed. Open the setup link again and submit the form from there.");
});

function formValuesOf(tenant: TenantRow): SetupFormValues {
  return {
    provider: tenant.provider,
    userSync: tenant.userSync,
    groupSync: tenant.groupSync,
    defaultRole: tenant.defaultRole ?? "",
    domainRestrictions: tenant.domainRestrictions.join("\n"),
    confirmDisconnect: false,
  };
}

/** When the tenant's current token was last used, if an IdP used it recently enough to count as connected. */
function connectedSince(tenant: TenantRow): string | undefined {
  return hasConnectedIdp(tenant) ? (tenant.tokenLastUsedAt ?? undefined) : undefined;
}

async function readForm(c: Context<AppEnv>): Promise<SetupFormValues> {
  // A malformed body reads as an empty form, which then fails validation with a 400.
  const empty: Record<string, string | File> = {};
  const body: Record<string, unknown> = await c.req.parseBody().catch(() => empty);
  const text = (name: SetupFormField) => {
    const value = body[name];
    return typeof value === "string" ? value : "";
  };
  return {
    provider: text("provider"),
    // An unticked checkbox is simply absent from the submission.
    userSync: body.userSync !== undefined,
    groupSync: body.groupSync !== undefined,
    defaultRole: text("defaultRole"),
    domainRestrictions: text("domainRestrictions"),
    confirmDisconnect: body.confirmDisconnect !== undefined,
  };
}

function isFormField(key: PropertyKey | undefined): key is SetupFormField {
  return typeof key === "string" && Object.hasOwn(tenantSettingsFields, key);
}

type Validated = { ok: true; settings: SetupSettings } | { ok: false; errors: SetupFormErrors };

function validate(values: SetupFormValues, mustConfirmDisconnect: boolean): Validated {
  const domains = values.domainRestrictions.split(/[\s,;]+/).filter((d) => d !== "");
  const result = setupForm.safeParse({
    provider: values.provider,
    userSync: values.userSync,
    groupSync: values.groupSync,
    defaultRole: values.defaultRole.trim() || null,
    domainRestrictions: domains,
  });
  const errors: SetupFormErrors = {};
  if (mustConfirmDisconnect && !values.confirmDisconnect) {
    errors.confirmDisconnect = "tick the box to confirm that the identity provider connected now will stop working";
  }
  if (result.success) {
    if (errors.confirmDisconnect) return { ok: false, errors };
    const settings = { ...result.data, domainRestrictions: [...new Set(result.data.domainRestrictions)] };
    return { ok: true, settings };
  }
  for (const issue of result.error.issues) {
    const [field, index] = issue.path;
    if (!isFormField(field)) continue;
    const message = typeof index === "number" ? `“${domains[index] ?? ""}” ${issue.message}` : issue.message;
    errors[field] = errors[field] ? `${errors[field]}; ${message}` : message;
  }
  return { ok: false, errors };
}

export const setupRoutes = new Hono<AppEnv>()
  .get("/:code", async (c) => {
    const state = await inspectSetupLink(c.env, c.req.param("code"));
    if (!state) return notFoundPage(c);
    if (!state.usable) return refusedPage(c, state.reason);
    // Fail before the admin fills in a form whose result could not name its base URL.
    publicOrigin(c.env, c.req.url);
    const tenant = state.tenant;
    return renderPage(c, 200, (frame) => (
      <SetupFormPage
        frame={frame}
        tenantName={tenant.name}
        connectedSince={connectedSince(tenant)}
        values={formValuesOf(tenant)}
        errors={{}}
      />
    ));
  })
  .post(
    "/:code",
    sameOriginForm,
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c: Context<AppEnv>) =>
        renderMessage(c, 413, "Form too large", "The submitted form is too large."),
    }),
    async (c) => {
      const code = c.req.param("code");
      const state = await inspectSetupLink(c.env, code);
      if (!state) return notFoundPage(c);
      if (!state.usable) return refusedPage(c, state.reason);

      const values = await readForm(c);
      const since = connectedSince(state.tenant);
      const validated = validate(values, since !== undefined);
      if (!validated.ok) {
        const { errors } = validated;
        return renderPage(c, 400, (frame) => (
          <SetupFormPage frame={frame} tenantName={state.tenant.name} connectedSince={since} values={values} errors={errors} />
        ));
      }

      const origin = publicOrigin(c.env, c.req.url);
      const issued = await completeSetup({ env: c.env }, code, validated.settings);
      if (!issued) {
        // Another submission of the same link won the race, or it expired, was revoked or its tenant disabled meanwhile.
        const now = await inspectSetupLink(c.env, code);
        return refusedPage(c, now && !now.usable ? now.reason : "used");
      }
      const { tenant, token } = issued;
      c.executionCtx.waitUntil(enqueueTenantEvents(c.env, tenant.id)); // tenant.token_rotated
      // The result page offers the console: a sign-in link of its own, used by its button (single-use, 15 minutes).
      const consoleLink = await createConsoleLink(directoryDb(c.env), tenant.id);
      const catalog = await tenantCatalog(shardDb(c.env, tenant.shard), tenant.id);
      const result = {
        tenantName: tenant.name,
        provider: tenant.provider,
        userSync: tenant.userSync,
        groupSync: tenant.groupSync,
        defaultRole: tenant.defaultRole,
        domainRestrictions: tenant.domainRestrictions,
        baseUrl: scimBaseUrl(origin, tenant.id),
        token,
        consoleSignInPath: `/console/sign-in/${consoleLink.code}`,
        roles: catalog.roles.map((r) => ({ id: r.id, displayName: r.displayName })),
        entitlements: catalog.entitlements.map((e) => ({ id: e.id, displayName: e.displayName })),
      };
      return renderPage(c, 200, (frame) => <SetupResultPage frame={frame} result={result} />);
    },
  )
  .onError((error, c) => {
    // publicOrigin's 503: the operator has not set PUBLIC_URL; nothing was issued.
    if (error instanceof ScimError && error.status === 503) {
      return renderMessage(c, 503, "Setup is not available", "This server's public address is not configured, so it cannot issue SCIM credentials. Nothing was changed. Please tell the application's administrator.");
    }
    // Log for the operator; the admin gets a plain page, never a stack or a JSON error.
    console.error(`${c.req.method} /setup failed`, error);
    return renderMessage(c, 500, "Something went wrong", "The setup could not be completed. Please try again in a minute; if it keeps failing, contact the application's administrator.");
  });
