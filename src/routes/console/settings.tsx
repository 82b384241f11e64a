/**
 * Console → Settings: the IdP and its instructions, user and group sync, SCIM on/off, the
 * defaults stamped on new groups, and token rotation (the new token is shown once).
 */
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { publicOrigin, scimBaseUrl } from "../../env";
import { type Provider, type TenantRow, updateTenantSettings } from "../../storage/tenants";
import { rotateToken, tenantDatabases } from "../../tenancy/tenant-service";
import { enqueueTenantEvents } from "../../webhooks/dispatch";
import { CopyableField, renderPage } from "../page-layout";
import { IdpSteps, PROVIDER_LABELS } from "../setup-views";
import { ConsoleLayout, type ConsolePage, consolePage, consolePath, CsrfField } from "./frame";
import { type GrantErrors, parseGrants } from "./grant-fields";
import { checkedForm, type ConsoleEnv, formFields, notFoundPage } from "./session";

interface SettingsValues {
  provider: string;
  userSync: boolean;
  groupSync: boolean;
  enabled: boolean;
  defaultRole: string;
  domainRestrictions: string;
}

type SettingsErrors = GrantErrors & { provider?: string; confirmRotation?: string };

function valuesOf(tenant: TenantRow): SettingsValues {
  return {
    provider: tenant.provider,
    userSync: tenant.userSync,
    groupSync: tenant.groupSync,
    enabled: tenant.enabled,
    defaultRole: tenant.defaultRole ?? "",
    domainRestrictions: tenant.domainRestrictions.join("\n"),
  };
}

const ErrorSummary: FC<{ errors: SettingsErrors }> = ({ errors }) => {
  const listed = Object.values(errors).filter((e): e is string => typeof e === "string");
  return listed.length === 0 ? null : (
    <div class="alert" role="alert">
      <strong>Nothing was changed. Please correct the following:</strong>
      <ul>
        {listed.map((e) => (
          <li>{e}</li>
        ))}
      </ul>
    </div>
  );
};

const Check: FC<{ name: string; checked: boolean; label: string; hint: string }> = ({ name, checked, label, hint }) => (
  <div class="field">
    <label class="choice">
      <input type="checkbox" name={name} value="on" checked={checked} aria-describedby={`${name}-hint`} /> {label}
    </label>
    <p class="hint" id={`${name}-hint`}>
      {hint}
    </p>
  </div>
);

const SettingsPage: FC<{ page: ConsolePage; tenant: TenantRow; values: SettingsValues; errors: SettingsErrors; saved: boolean }> = ({
  page,
  tenant,
  values,
  errors,
  saved,
}) => (
  <ConsoleLayout page={page} section="settings" title="Settings">
    {saved && (
      <p class="ok" role="status">
        Saved.
      </p>
    )}
    <ErrorSummary errors={errors} />
    <form method="post" action={consolePath(page.tenantId, "/settings")}>
      <CsrfField csrf={page.csrf} />
      <fieldset>
        <legend>Identity provider</legend>
        {(Object.keys(PROVIDER_LABELS) as Provider[]).map((provider) => (
          <label class="choice">
            <input type="radio" name="provider" value={provider} checked={values.provider === provider} required /> {PROVIDER_LABELS[provider]}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Provisioning</legend>
        <Check
          name="enabled"
          checked={values.enabled}
          label="SCIM enabled"
          hint="When off, every request from the identity provider is refused (403 “provisioning is disabled”): Okta and Entra report errors and retry later. Users and groups already here stay as they are."
        />
        <Check name="userSync" checked={values.userSync} label="Sync users" hint="When off, the identity provider's user requests are refused (403) and no user changes." />
        <Check name="groupSync" checked={values.groupSync} label="Sync groups" hint="When off, the identity provider's group requests are refused (403) and no group changes." />
      </fieldset>
      <div class="field">
        <label for="defaultRole">Default role for new groups</label>
        <input type="text" id="defaultRole" name="defaultRole" value={values.defaultRole} maxlength={100} autocomplete="off" aria-describedby="defaultRole-hint" aria-invalid={errors.role ? "true" : undefined} />
        <p class="hint" id="defaultRole-hint">
          Stamped on every group the identity provider creates from now on; existing groups keep theirs (edit them under Groups).
        </p>
      </div>
      <div class="field">
        <label for="domainRestrictions">Domains for new groups</label>
        <textarea id="domainRestrictions" name="domainRestrictions" rows={3} autocomplete="off" spellcheck={false} aria-describedby="domainRestrictions-hint" aria-invalid={errors.domains ? "true" : undefined}>
          {values.domainRestrictions}
        </textarea>
        <p class="hint" id="domainRestrictions-hint">
          Email domains stamped on every group the identity provider creates, separated by commas, spaces or new lines. They do
          not filter users: every user the identity provider sends is provisioned.
        </p>
      </div>
      <button type="submit">Save settings</button>
    </form>

    <h2>Rotate the token</h2>
    <form method="post" action={consolePath(page.tenantId, "/settings/token")}>
      <CsrfField csrf={page.csrf} />
      <p id="rotate-warning">
        A new token replaces the current one at once: <strong>the identity provider stops working</strong> (every request
        gets 401) until you paste the new token into it. The new token is shown once.
      </p>
      <label class="choice">
        <input type="checkbox" name="confirmRotation" value="on" required aria-describedby="rotate-warning" aria-invalid={errors.confirmRotation ? "true" : undefined} /> I
        understand: replace the token now
      </label>
      <p>
        <button type="submit" class="danger">
          Rotate the token
        </button>
      </p>
    </form>

    <h2>Instructions for {PROVIDER_LABELS[tenant.provider]}</h2>
    <p>The SCIM base URL is on the Overview page; the token is the one shown when it was last issued.</p>
    <IdpSteps provider={tenant.provider} userSync={tenant.userSync} groupSync={tenant.groupSync} />
  </ConsoleLayout>
);

const NewTokenPage: FC<{ page: ConsolePage; baseUrl: string; token: string; provider: Provider }> = ({ page, baseUrl, token, provider }) => (
  <ConsoleLayout page={page} section="settings" title="New token" script>
    <div class="notice" role="note">
      <strong>Copy the token now: it is shown only once.</strong> The previous token no longer works: paste this one into{" "}
      {PROVIDER_LABELS[provider]} to resume provisioning.
    </div>
    <CopyableField id="scim-base-url" label="SCIM base URL" value={baseUrl} />
    <CopyableField id="scim-token" label="Bearer token" value={token} />
    <p id="copy-status" class="hint" role="status" aria-live="polite"></p>
    <p>
      <a href={consolePath(page.tenantId, "/settings")}>Back to settings</a>
    </p>
  </ConsoleLayout>
);

function frameOf(session: ConsoleEnv["Variables"]["session"], tenant: TenantRow) {
  return (frame: ConsolePage["frame"]): ConsolePage => consolePage(session, frame, tenant);
}

export const settingsRoutes = new Hono<ConsoleEnv>()
  .get("/", (c) => {
    const session = c.get("session");
    const tenant = session.tenant;
    const page = frameOf(session, tenant);
    return renderPage(c, 200, (frame) => (
      <SettingsPage page={page(frame)} tenant={tenant} values={valuesOf(tenant)} errors={{}} saved={c.req.query("saved") === "1"} />
    ));
  })
  .post("/", checkedForm, async (c) => {
    const session = c.get("session");
    const fields = await formFields(c);
    const values: SettingsValues = {
      provider: fields.text("provider"),
      userSync: fields.ticked("userSync"),
      groupSync: fields.ticked("groupSync"),
      enabled: fields.ticked("enabled"),
      defaultRole: fields.text("defaultRole"),
      domainRestrictions: fields.text("domainRestrictions"),
    };
    const grants = parseGrants(values.defaultRole, values.domainRestrictions);
    const provider = Object.hasOwn(PROVIDER_LABELS, values.provider) ? (values.provider as Provider) : undefined;
    if (!grants.ok || !provider) {
      const errors: SettingsErrors = { ...(grants.ok ? {} : grants.errors), ...(provider ? {} : { provider: "Identity provider: choose one" }) };
      if (errors.role) errors.role = `Default role: ${errors.role}`;
      if (errors.domains) errors.domains = `Domains: ${errors.domains}`;
      const page = frameOf(session, session.tenant);
      return renderPage(c, 400, (frame) => <SettingsPage page={page(frame)} tenant={session.tenant} values={values} errors={errors} saved={false} />);
    }
    const changes = { provider, userSync: values.userSync, groupSync: values.groupSync, enabled: values.enabled, defaultRole: grants.role, domainRestrictions: grants.domains };
    const row = await updateTenantSettings(tenantDatabases(c.env, session.tenant), session.tenant.id, changes, new Date().toISOString());
    if (!row) return notFoundPage(c);
    // tenant.enabled / tenant.disabled when `enabled` flipped, as the operator API's PATCH does.
    if (row.enabled !== session.tenant.enabled) c.executionCtx.waitUntil(enqueueTenantEvents(c.env, row.id));
    return c.redirect(consolePath(row.id, "/settings?saved=1"), 303);
  })
  .post("/token", checkedForm, async (c) => {
    const session = c.get("session");
    const fields = await formFields(c);
    const page = frameOf(session, session.tenant);
    if (!fields.ticked("confirmRotation")) {
      const errors = { confirmRotation: "Tick the box to confirm that the identity provider stops working until you paste the new token." };
      return renderPage(c, 400, (frame) => <SettingsPage page={page(frame)} tenant={session.tenant} values={valuesOf(session.tenant)} errors={errors} saved={false} />);
    }
    const origin = publicOrigin(c.env, c.req.url);
    const token = await rotateToken({ env: c.env }, session.tenant);
    if (!token) return notFoundPage(c);
    c.executionCtx.waitUntil(enqueueTenantEvents(c.env, session.tenant.id)); // tenant.token_rotated
    const baseUrl = scimBaseUrl(origin, session.tenant.id);
    return renderPage(c, 200, (frame) => <NewTokenPage page={page(frame)} baseUrl={baseUrl} token={token} provider={session.tenant.provider} />);
  });
