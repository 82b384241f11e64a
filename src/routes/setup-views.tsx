/**
 * The setup pages as server-rendered JSX: the form, and the one-time result with per-IdP
 * steps. The frame, styles and message pages are shared with the console (page-layout.tsx).
 */
import type { FC } from "hono/jsx";
import type { Provider } from "../storage/tenants";
import { CopyableField, Layout, minuteUtc, type PageFrame } from "./page-layout";
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

const FIELD_LABELS: Record<SetupFormField, string> = {
  provider: "Identity provider",
  userSync: "Sync users",
  groupSync: "Sync groups",
  defaultRole: "Default role",
  domainRestrictions: "Domain restrictions",
  confirmDisconnect: "Disconnect the current identity provider",
};

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
  frame: PageFrame;
  tenantName: string;
  /** When an IdP last used the current token, if recently: continuing disconnects it. */
  connectedSince: string | undefined;
  values: SetupFormValues;
  errors: SetupFormErrors;
}> = ({ frame, tenantName, connectedSince, values, errors }) => {
  const failed = Object.entries(errors) as [SetupFormField, string][];
  return (
    <Layout title={`Connect your identity provider: ${tenantName}`} frame={frame}>
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
            Stamped on every group the identity provider creates; you can change it per group later in the console.
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
            Email domains stamped on every group the identity provider creates, for example <code>example.com</code>,
            together with the default role: the application reads them to decide what a group's members may reach.
            They do not filter users: every user the identity provider sends is provisioned. Separate them with
            commas, spaces or new lines; leave empty for none.
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

export interface SetupResult {
  tenantName: string;
  provider: Provider;
  userSync: boolean;
  groupSync: boolean;
  defaultRole: string | null;
  domainRestrictions: string[];
  baseUrl: string;
  token: string;
  /** The console sign-in link minted with the result (single-use, 15 minutes). */
  consoleSignInPath: string;
  /** The tenant's role catalog (issue 12): the values its IdP should send. */
  roles: { id: string; displayName: string }[];
  entitlements: { id: string; displayName: string }[];
}

export const SetupResultPage: FC<{ frame: PageFrame; result: SetupResult }> = ({ frame, result }) => (
  <Layout title={`SCIM credentials: ${result.tenantName}`} frame={frame} script>
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
    <h2>Your choices</h2>
    <dl class="facts">
      <dt>Sync users</dt>
      <dd>{result.userSync ? "on" : "off"}</dd>
      <dt>Sync groups</dt>
      <dd>{result.groupSync ? "on" : "off"}</dd>
      <dt>Default role for new groups</dt>
      <dd>{result.defaultRole ?? "none"}</dd>
      <dt>Domains stamped on new groups</dt>
      <dd>{result.domainRestrictions.length ? result.domainRestrictions.join(", ") : "none"}</dd>
    </dl>
    <h2>Next steps in {PROVIDER_LABELS[result.provider]}</h2>
    <IdpSteps provider={result.provider} userSync={result.userSync} groupSync={result.groupSync} />
    <RoleIds provider={result.provider} roles={result.roles} entitlements={result.entitlements} />
    <h2>Watch provisioning</h2>
    <p>
      The admin console shows whether provisioning works, explains every failure, and lets you change group roles,
      sync settings and the token. This button signs you in once, within 15 minutes.
    </p>
    <form method="post" action={result.consoleSignInPath}>
      <button type="submit" class="secondary">
        Open the admin console
      </button>
    </form>
  </Layout>
);

/** What the steps depend on. */
interface StepOptions {
  userSync: boolean;
  groupSync: boolean;
}

/** The IdP's step-by-step instructions (the result page, and again in the console's settings). */
export const IdpSteps: FC<StepOptions & { provider: Provider }> = ({ provider, ...options }) => (
  <>
    {provider === "okta" && <OktaSteps {...options} />}
    {provider === "entra" && <EntraSteps {...options} />}
    {provider === "generic" && <GenericSteps {...options} />}
  </>
);

function oktaActions(groupSync: boolean): string[] {
  const groups = groupSync ? ["Push Groups", "Import Groups"] : [];
  return ["Push New Users", "Push Profile Updates", "Import New Users and Profile Updates", ...groups];
}

const OktaSteps: FC<StepOptions> = ({ groupSync }) => (
  <ol>
    <li>
      In the Okta Admin Console, open <strong>Applications → Applications →</strong> your app. It must be a{" "}
      <strong>SAML 2.0</strong> or <strong>SWA</strong> app integration (Okta does not offer SCIM on OpenID Connect
      integrations): if yours is OIDC, create one with <strong>Create App Integration → SAML 2.0</strong> for
      provisioning. On the <strong>General</strong> tab, edit <strong>App Settings</strong>, set{" "}
      <strong>Provisioning</strong> to <strong>SCIM</strong> and save.
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

const EntraSteps: FC<StepOptions> = ({ groupSync }) => (
  <ol>
    <li>
      In the Microsoft Entra admin center, open <strong>Enterprise applications</strong>. If the app is not there yet,
      click <strong>New application → Create your own application</strong>, choose{" "}
      <strong>Integrate any other application you don't find in the gallery (Non-gallery)</strong> and create it.
    </li>
    <li>
      Open the app → <strong>Provisioning</strong>, and set <strong>Provisioning Mode</strong> to{" "}
      <strong>Automatic</strong>.
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

const GenericSteps: FC<StepOptions> = ({ userSync, groupSync }) => (
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
