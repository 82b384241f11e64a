/**
 * The setup pages as server-rendered JSX: the form, the one-time result with per-IdP steps,
 * and plain message pages. No external assets; the inline style and script carry the
 * response's CSP nonce.
 */
import type { Child, FC } from "hono/jsx";
import { raw } from "hono/html";
import type { Provider } from "../storage/tenants";
import { RoleIds } from "./setup-roles-view";

export const PROVIDER_LABELS: Record<Provider, string> = {
  okta: "Okta",
  entra: "Microsoft Entra ID",
  generic: "Other SCIM 2.0 client",
};

/** The form as the admin filled it in: strings as typed, so a re-render loses nothing. */
export interface SetupFormValues {
  provider: string;
  userSync: boolean;
  groupSync: boolean;
  defaultRole: string;
  domainRestrictions: string;
  /** Ticked: the admin accepts that the IdP using the current token is disconnected. */
  confirmDisconnect: boolean;
}

export type SetupFormField = keyof SetupFormValues;
export type SetupFormErrors = Partial<Record<SetupFormField, string>>;

const STYLE = `
:root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0a5bd3; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f8fa; }
main { max-width: 48rem; margin: 2rem auto; padding: 2rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
p.lead { color: var(--muted); margin-top: 0; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 1.25rem; padding: .75rem 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.choice { display: block; margin: .25rem 0; }
.field { margin: 0 0 1.25rem; }
.field > label { display: block; font-weight: 600; margin-bottom: .25rem; }
.hint { color: var(--muted); font-size: .9rem; margin: .25rem 0 0; }
.error { color: var(--bad); font-size: .9rem; margin: .25rem 0 0; }
input[type=text], textarea { width: 100%; font: inherit; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; }
input[aria-invalid=true], textarea[aria-invalid=true] { border-color: var(--bad); }
input:focus-visible, textarea:focus-visible, button:focus-visible { outline: 3px solid #80b3ff; outline-offset: 1px; }
.secret { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem; }
button { font: inherit; font-weight: 600; padding: .55rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.copy { background: #fff; color: var(--accent); padding: .45rem .8rem; }
.copyable { display: flex; gap: .5rem; }
.alert { border: 1px solid var(--bad); background: #fef3f2; color: #7a271a; border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1.25rem; }
.alert ul { margin: .25rem 0 0; padding-left: 1.25rem; }
.notice { border: 1px solid #f0b429; background: #fffbea; border-radius: 6px; padding: .75rem 1rem; margin: 1.25rem 0; }
.notice p { margin: 0 0 .5rem; }
ol li { margin: .35rem 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; background: #eff1f3; padding: .1em .3em; border-radius: 4px; }
`;

// Copy buttons: the Clipboard API where allowed, else select-and-copy; the status is announced.
const COPY_SCRIPT = `
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("copy-status");
    field.select();
    var copied = navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.reject();
    copied.catch(function () { document.execCommand("copy"); }).then(function () {
      status.textContent = button.getAttribute("aria-label") + ": copied to the clipboard.";
    });
  });
});
`;

const Layout: FC<{ title: string; nonce: string; script?: boolean; children?: Child }> = ({ title, nonce, script, children }) => (
  <>
    {raw("<!DOCTYPE html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{title}</title>
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: STYLE }} />
      </head>
      <body>
        <main>{children}</main>
        {script && <script nonce={nonce} dangerouslySetInnerHTML={{ __html: COPY_SCRIPT }} />}
      </body>
    </html>
  </>
);

export const MessagePage: FC<{ nonce: string; title: string; message: string }> = ({ nonce, title, message }) => (
  <Layout title={title} nonce={nonce}>
    <h1>{title}</h1>
    <p>{message}</p>
  </Layout>
);

const FIELD_LABELS: Record<SetupFormField, string> = {
  provider: "Identity provider",
  userSync: "Sync users",
  groupSync: "Sync groups",
  defaultRole: "Default role",
  domainRestrictions: "Domain restrictions",
  confirmDisconnect: "Disconnect the current identity provider",
};

/** `2026-12-01T09:30:12.345Z` → `2026-12-01 09:30 UTC`: "last used" has a resolution of a minute. */
function minuteUtc(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}

function describedBy(field: SetupFormField, errors: SetupFormErrors, hintId?: string): string | undefined {
  const ids = [hintId, errors[field] ? `${field}-error` : undefined].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

const FieldError: FC<{ field: SetupFormField; errors: SetupFormErrors }> = ({ field, errors }) =>
  errors[field] ? (
    <p class="error" id={`${field}-error`}>
      {errors[field]}
    </p>
  ) : null;

export const SetupFormPage: FC<{
  nonce: string;
  tenantName: string;
  /** When an IdP last used the current token, if recently: continuing disconnects it. */
  connectedSince: string | undefined;
  values: SetupFormValues;
  errors: SetupFormErrors;
}> = ({ nonce, tenantName, connectedSince, values, errors }) => {
  const failed = Object.entries(errors) as [SetupFormField, string][];
  return (
    <Layout title={`Connect your identity provider: ${tenantName}`} nonce={nonce}>
      <h1>Connect your identity provider</h1>
      <p class="lead">
        Set up SCIM provisioning for <strong>{tenantName}</strong>. Submitting this form generates the SCIM
        credentials; they are shown once.
      </p>
      {failed.length > 0 && (
        <div class="alert" role="alert">
          <strong>Please correct the following:</strong>
          <ul>
            {failed.map(([field, message]) => (
              <li>
                {FIELD_LABELS[field]}: {message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <form method="post">
        <fieldset aria-describedby={describedBy("provider", errors)}>
          <legend>Identity provider</legend>
          {(Object.keys(PROVIDER_LABELS) as Provider[]).map((provider) => (
            <label class="choice">
              <input type="radio" name="provider" value={provider} checked={values.provider === provider} required />{" "}
              {PROVIDER_LABELS[provider]}
            </label>
          ))}
          <FieldError field="provider" errors={errors} />
        </fieldset>
        <fieldset>
          <legend>What to provision</legend>
          <label class="choice">
            <input type="checkbox" name="userSync" value="on" checked={values.userSync} /> Sync users
          </label>
          <label class="choice">
            <input type="checkbox" name="groupSync" value="on" checked={values.groupSync} /> Sync groups
          </label>
        </fieldset>
        <div class="field">
          <label for="defaultRole">Default role for groups the identity provider creates (optional)</label>
          <input
            type="text"
            id="defaultRole"
            name="defaultRole"
            value={values.defaultRole}
            maxlength={100}
            autocomplete="off"
            aria-invalid={errors.defaultRole ? "true" : undefined}
            aria-describedby={describedBy("defaultRole", errors, "defaultRole-hint")}
          />
          <p class="hint" id="defaultRole-hint">
            Leave empty to give new groups no role.
          </p>
          <FieldError field="defaultRole" errors={errors} />
        </div>
        <div class="field">
          <label for="domainRestrictions">Domain restrictions (optional)</label>
          <textarea
            id="domainRestrictions"
            name="domainRestrictions"
            rows={3}
            autocomplete="off"
            spellcheck={false}
            aria-invalid={errors.domainRestrictions ? "true" : undefined}
            aria-describedby={describedBy("domainRestrictions", errors, "domainRestrictions-hint")}
          >
            {values.domainRestrictions}
          </textarea>
          <p class="hint" id="domainRestrictions-hint">
            Only accept users in these email domains, for example <code>example.com</code>. Separate them with
            commas, spaces or new lines. Leave empty to accept any domain.
          </p>
          <FieldError field="domainRestrictions" errors={errors} />
        </div>
        {connectedSince !== undefined && (
          <div class="notice" role="note">
            <p id="connected-warning">
              <strong>An identity provider is connected:</strong> it last used this organisation's SCIM token on{" "}
              {minuteUtc(connectedSince)}. Continuing disconnects it: its token stops working at once, and provisioning
              stops until you enter the new token in it.
            </p>
            <label class="choice">
              <input
                type="checkbox"
                name="confirmDisconnect"
                value="on"
                checked={values.confirmDisconnect}
                required
                aria-invalid={errors.confirmDisconnect ? "true" : undefined}
                aria-describedby={describedBy("confirmDisconnect", errors, "connected-warning")}
              />{" "}
              I understand: disconnect the current identity provider and issue a new token
            </label>
            <FieldError field="confirmDisconnect" errors={errors} />
          </div>
        )}
        <button type="submit">Generate SCIM credentials</button>
      </form>
    </Layout>
  );
};

const CopyableField: FC<{ id: string; label: string; value: string }> = ({ id, label, value }) => (
  <div class="field">
    <label for={id}>{label}</label>
    <div class="copyable">
      <input type="text" class="secret" id={id} value={value} readonly autocomplete="off" spellcheck={false} />
      <button type="button" class="copy" data-copy={id} aria-label={`Copy ${label}`}>
        Copy
      </button>
    </div>
  </div>
);

export interface SetupResult {
  tenantName: string;
  provider: Provider;
  userSync: boolean;
  groupSync: boolean;
  baseUrl: string;
  token: string;
  /** The tenant's role catalog (issue 12): the values its IdP should send. */
  roles: { id: string; displayName: string }[];
  entitlements: { id: string; displayName: string }[];
}

export const SetupResultPage: FC<{ nonce: string; result: SetupResult }> = ({ nonce, result }) => (
  <Layout title={`SCIM credentials: ${result.tenantName}`} nonce={nonce} script>
    <h1>Your SCIM credentials</h1>
    <p class="lead">
      Provisioning for <strong>{result.tenantName}</strong> with {PROVIDER_LABELS[result.provider]}.
    </p>
    <div class="notice" role="note">
      <strong>Copy the token now: it is shown only once.</strong> This page cannot be opened again. If you lose the
      token, ask the application's administrator for a new setup link. Any token issued before this one no longer
      works.
    </div>
    <CopyableField id="scim-base-url" label="SCIM base URL" value={result.baseUrl} />
    <CopyableField id="scim-token" label="Bearer token" value={result.token} />
    <p id="copy-status" class="hint" role="status" aria-live="polite"></p>
    <h2>Next steps in {PROVIDER_LABELS[result.provider]}</h2>
    {result.provider === "okta" && <OktaSteps {...result} />}
    {result.provider === "entra" && <EntraSteps {...result} />}
    {result.provider === "generic" && <GenericSteps {...result} />}
    <RoleIds provider={result.provider} roles={result.roles} entitlements={result.entitlements} />
  </Layout>
);

function oktaActions(groupSync: boolean): string[] {
  const groups = groupSync ? ["Push Groups", "Import Groups"] : [];
  return ["Push New Users", "Push Profile Updates", "Import New Users and Profile Updates", ...groups];
}

const OktaSteps: FC<SetupResult> = ({ groupSync }) => (
  <ol>
    <li>
      In the Okta Admin Console, open <strong>Applications → Applications →</strong> your app. On the{" "}
      <strong>General</strong> tab, edit <strong>App Settings</strong>, tick <strong>Enable SCIM provisioning</strong>{" "}
      and save.
    </li>
    <li>
      Open <strong>Provisioning → Integration</strong> and click <strong>Edit</strong>:
      <ul>
        <li>
          <strong>SCIM connector base URL</strong>: the SCIM base URL above.
        </li>
        <li>
          <strong>Unique identifier field for users</strong>: <code>userName</code>.
        </li>
        <li>
          <strong>Supported provisioning actions</strong>: {oktaActions(groupSync).join(", ")}.
        </li>
        <li>
          <strong>Authentication Mode</strong>: HTTP Header. <strong>Authorization</strong> (Bearer): the token above.
        </li>
      </ul>
    </li>
    <li>
      Click <strong>Test Connector Configuration</strong>, then <strong>Save</strong>.
    </li>
    <li>
      Open <strong>Provisioning → To App</strong>, click <strong>Edit</strong> and enable{" "}
      <strong>Create Users</strong>, <strong>Update User Attributes</strong> and <strong>Deactivate Users</strong>.
      Save.
    </li>
    <li>
      Assign people and groups on the <strong>Assignments</strong> tab
      {groupSync ? (
        <>
          , and choose the groups to send on the <strong>Push Groups</strong> tab
        </>
      ) : (
        ""
      )}
      .
    </li>
  </ol>
);

const EntraSteps: FC<SetupResult> = ({ groupSync }) => (
  <ol>
    <li>
      In the Microsoft Entra admin center, open <strong>Enterprise applications →</strong> your app →{" "}
      <strong>Provisioning</strong>, and set <strong>Provisioning Mode</strong> to <strong>Automatic</strong>.
    </li>
    <li>
      Under <strong>Admin Credentials</strong>, enter the SCIM base URL above as <strong>Tenant URL</strong> and the
      token above as <strong>Secret Token</strong>. Click <strong>Test Connection</strong>, then{" "}
      <strong>Save</strong>.
    </li>
    <li>
      Review <strong>Mappings</strong>: keep user provisioning enabled
      {groupSync ? " and group provisioning enabled" : ", and disable “Provision Microsoft Entra ID Groups”"}.
    </li>
    <li>
      Under <strong>Settings</strong>, set <strong>Scope</strong> to{" "}
      <strong>Sync only assigned users and groups</strong>, and assign them on the app's{" "}
      <strong>Users and groups</strong> page.
    </li>
    <li>
      Set <strong>Provisioning Status</strong> to <strong>On</strong> and save. The first cycle starts shortly; after
      that Entra ID syncs about every 40 minutes.
    </li>
  </ol>
);

const GenericSteps: FC<SetupResult> = ({ userSync, groupSync }) => (
  <ol>
    <li>
      Point your SCIM 2.0 client at the SCIM base URL above (it ends in <code>/scim/v2/&lt;tenant id&gt;</code>).
    </li>
    <li>
      Authenticate every request with the header <code>Authorization: Bearer &lt;token&gt;</code>, using the token
      above. Send bodies as <code>application/scim+json</code>.
    </li>
    <li>
      Supported endpoints: <code>/ServiceProviderConfig</code>, <code>/ResourceTypes</code>, <code>/Schemas</code>
      {userSync ? (
        <>
          , <code>/Users</code>
        </>
      ) : (
        ""
      )}
      {groupSync ? (
        <>
          , <code>/Groups</code>
        </>
      ) : (
        ""
      )}
      : GET with <code>filter</code>, sorting and paging, POST, PUT, PATCH and DELETE. Bulk and <code>/Me</code> are not
      supported.
    </li>
  </ol>
);
