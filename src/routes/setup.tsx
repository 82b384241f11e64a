/**
 * /setup/{code}: the tenant IT admin's self-serve onboarding. The form applies the tenant's
 * provisioning settings and issues its SCIM token, once per link; the result page is the
 * only place the token is ever shown.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { type AppEnv, publicOrigin, scimBaseUrl } from "../env";
import { database } from "../storage/database";
import type { TenantRow, TenantSettings } from "../storage/tenants";
import { completeSetup, inspectSetupLink } from "../tenancy/tenant-service";
import { tenantSettingsFields } from "./tenant-settings";
import {
  MessagePage,
  type SetupFormErrors,
  type SetupFormField,
  SetupFormPage,
  type SetupFormValues,
  SetupResultPage,
} from "./setup-views";

const MAX_FORM_BYTES = 64 * 1024;

const setupForm = z.object(tenantSettingsFields);
type SetupSettings = Pick<TenantSettings, keyof typeof tenantSettingsFields>;

type Rendered = string | Promise<string>;

function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/**
 * Every setup response goes through here. The URL carries a secret, hence no caching and no
 * referrer; the CSP admits only this response's own inline style and script.
 */
function render(c: Context<AppEnv>, status: ContentfulStatusCode, page: (nonce: string) => Rendered) {
  const nonce = newNonce();
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; ` +
      "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  );
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Frame-Options", "DENY");
  c.header("X-Robots-Tag", "noindex");
  return c.html(page(nonce), status);
}

function notFoundPage(c: Context<AppEnv>) {
  return render(c, 404, (nonce) => (
    <MessagePage
      nonce={nonce}
      title="Setup link not found"
      message="This setup link is not valid. Check that you copied the whole link, or ask the application's administrator for a new one."
    />
  ));
}

function gonePage(c: Context<AppEnv>, reason: "used" | "expired") {
  const message =
    reason === "used"
      ? "This setup link has already been used. For security, SCIM credentials are shown only once — ask the application's administrator for a new link if you need new credentials."
      : "This setup link has expired — ask the application's administrator for a new link.";
  return render(c, 410, (nonce) => (
    <MessagePage
      nonce={nonce}
      title={reason === "used" ? "Setup link already used" : "Setup link expired"}
      message={message}
    />
  ));
}

function formValuesOf(tenant: TenantRow): SetupFormValues {
  return {
    provider: tenant.provider,
    userSync: tenant.userSync,
    groupSync: tenant.groupSync,
    defaultRole: tenant.defaultRole ?? "",
    domainRestrictions: tenant.domainRestrictions.join("\n"),
  };
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
  };
}

function isFormField(key: PropertyKey | undefined): key is SetupFormField {
  return typeof key === "string" && Object.hasOwn(tenantSettingsFields, key);
}

type Validated = { ok: true; settings: SetupSettings } | { ok: false; errors: SetupFormErrors };

function validate(values: SetupFormValues): Validated {
  const domains = values.domainRestrictions.split(/[\s,;]+/).filter((d) => d !== "");
  const result = setupForm.safeParse({
    provider: values.provider,
    userSync: values.userSync,
    groupSync: values.groupSync,
    defaultRole: values.defaultRole.trim() || null,
    domainRestrictions: domains,
  });
  if (result.success) {
    const settings = { ...result.data, domainRestrictions: [...new Set(result.data.domainRestrictions)] };
    return { ok: true, settings };
  }
  const errors: SetupFormErrors = {};
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
    const state = await inspectSetupLink(database(c.env.DB), c.req.param("code"));
    if (!state) return notFoundPage(c);
    if (!state.usable) return gonePage(c, state.reason ?? "used");
    const tenant = state.tenant;
    return render(c, 200, (nonce) => (
      <SetupFormPage nonce={nonce} tenantName={tenant.name} values={formValuesOf(tenant)} errors={{}} />
    ));
  })
  .post(
    "/:code",
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c: Context<AppEnv>) =>
        render(c, 413, (nonce) => (
          <MessagePage nonce={nonce} title="Form too large" message="The submitted form is too large." />
        )),
    }),
    async (c) => {
      const code = c.req.param("code");
      const db = database(c.env.DB);
      const state = await inspectSetupLink(db, code);
      if (!state) return notFoundPage(c);
      if (!state.usable) return gonePage(c, state.reason ?? "used");

      const values = await readForm(c);
      const validated = validate(values);
      if (!validated.ok) {
        const { errors } = validated;
        return render(c, 400, (nonce) => (
          <SetupFormPage nonce={nonce} tenantName={state.tenant.name} values={values} errors={errors} />
        ));
      }

      const issued = await completeSetup({ db, kv: c.env.TOKENS }, code, validated.settings);
      // Another submission of the same link won the race (or it just expired).
      if (!issued) return gonePage(c, "used");
      const { tenant, token } = issued;
      const result = {
        tenantName: tenant.name,
        provider: tenant.provider,
        userSync: tenant.userSync,
        groupSync: tenant.groupSync,
        baseUrl: scimBaseUrl(publicOrigin(c.env, c.req.url), tenant.id),
        token,
      };
      return render(c, 200, (nonce) => <SetupResultPage nonce={nonce} result={result} />);
    },
  )
  .onError((error, c) => {
    // Log for the operator; the admin gets a plain page, never a stack or a JSON error.
    console.error(`${c.req.method} /setup failed`, error);
    return render(c, 500, (nonce) => (
      <MessagePage
        nonce={nonce}
        title="Something went wrong"
        message="The setup could not be completed. Please try again in a minute; if it keeps failing, contact the application's administrator."
      />
    ));
  });
