/**
 * The self-serve setup page: form, one-time credentials, used/expired/revoked/unknown links,
 * disabled tenants, the confirmation before disconnecting a working IdP, and the Origin check.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, call, createTenant, ORIGIN, scim, type TestTenant } from "./support/http";
import { shardOf } from "./support/shards";

interface TenantSettingsJson {
  provider: string;
  userSync: boolean;
  groupSync: boolean;
  defaultRole: string | null;
  domainRestrictions: string[];
  token: { lastFour: string } | null;
}

type FormFields = Record<string, string>;

const ENTRA_FORM: FormFields = {
  provider: "entra",
  userSync: "on",
  defaultRole: "  member ",
  domainRestrictions: "Example.com, example.org\nsub.example.net  example.com",
};

type LinkedTenant = TestTenant & { setupUrl: string };

/** A fresh tenant created with a setup link, as the operator asks for one. */
async function createTenantWithLink(settings: Record<string, unknown> = {}): Promise<LinkedTenant> {
  const tenant = await createTenant({ ...settings, setupLink: true });
  if (!tenant.setupUrl) throw new Error("tenant created with setupLink: true has no setupUrl");
  return { ...tenant, setupUrl: tenant.setupUrl };
}

/** Posts the form as a browser does from the setup page: with its Origin (null: none at all). */
function submit(setupUrl: string, fields: FormFields, origin: string | null = ORIGIN): Promise<Response> {
  const headers = new Headers();
  if (origin !== null) headers.set("Origin", origin);
  return call(setupUrl, { method: "POST", headers, body: new URLSearchParams(fields) });
}

async function settingsOf(tenant: TestTenant): Promise<TenantSettingsJson> {
  const res = await admin(`/tenants/${tenant.id}`);
  expect(res.status).toBe(200);
  return res.json<TenantSettingsJson>();
}

/** The value of the read-only input with this id on the result page. */
function inputValue(html: string, id: string): string {
  const match = new RegExp(`<input[^>]*\\bid="${id}"[^>]*\\bvalue="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no #${id} with a value in: ${html.slice(0, 300)}`);
  return match[1];
}

async function expectTokenStatus(tenant: TestTenant, token: string, status: number) {
  const res = await scim(tenant, "/ServiceProviderConfig", { token });
  expect(res.status).toBe(status);
}

function expectSetupHeaders(res: Response) {
  expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  // Not no-referrer: with it, browsers send `Origin: null` on the form POST.
  expect(res.headers.get("Referrer-Policy")).toBe("same-origin");
  expect(res.headers.get("Content-Security-Policy")).toMatch(/default-src 'none'/);
}

describe("GET /setup/:code", () => {
  it("renders the form for the tenant, with its provider preselected and no caching", async () => {
    const tenant = await createTenantWithLink({ name: "Acme <Corp>", provider: "okta", groupSync: false });
    const res = await call(tenant.setupUrl);
    expect(res.status).toBe(200);
    expectSetupHeaders(res);
    const html = await res.text();
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("Acme &lt;Corp&gt;");
    expect(html).not.toContain("Acme <Corp>");
    for (const name of ["provider", "userSync", "groupSync", "defaultRole", "domainRestrictions"]) {
      expect(html).toContain(`name="${name}"`);
    }
    expect(html).toMatch(/<input[^>]*value="okta"[^>]*checked/);
    expect(html).not.toMatch(/<input[^>]*value="entra"[^>]*checked/);
    expect(html).toMatch(/<input[^>]*name="userSync"[^>]*checked/);
    expect(html).not.toMatch(/<input[^>]*name="groupSync"[^>]*checked/);
    expect(html).toContain("Generate SCIM credentials");
  });

  it("allows only this response's inline style through the CSP nonce", async () => {
    const tenant = await createTenantWithLink();
    const res = await call(tenant.setupUrl);
    const nonce = /'nonce-([^']+)'/.exec(res.headers.get("Content-Security-Policy") ?? "")?.[1];
    expect(nonce).toBeTruthy();
    expect(await res.text()).toContain(`<style nonce="${nonce}">`);
    const again = await call(tenant.setupUrl);
    expect(again.headers.get("Content-Security-Policy")).not.toContain(nonce);
  });

  it("answers 404 with an HTML page for an unknown code", async () => {
    for (const res of [await call("/setup/not-a-real-code"), await submit("/setup/not-a-real-code", ENTRA_FORM)]) {
      expect(res.status).toBe(404);
      expectSetupHeaders(res);
      expect(await res.text()).toContain("Setup link not found");
    }
  });
});

describe("POST /setup/:code", () => {
  it("applies the settings and shows a new token once, replacing the old one", async () => {
    const tenant = await createTenantWithLink({ provider: "okta" });
    const res = await submit(tenant.setupUrl, ENTRA_FORM);
    expect(res.status).toBe(200);
    expectSetupHeaders(res);
    const html = await res.text();

    const token = inputValue(html, "scim-token");
    expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
    expect(token).not.toBe(tenant.token);
    expect(inputValue(html, "scim-base-url")).toBe(tenant.baseUrl);
    expect(html).toContain("shown only once");
    expect(html).toContain("Tenant URL");
    expect(html).toContain("Sync only assigned users and groups");

    await expectTokenStatus(tenant, token, 200);
    await expectTokenStatus(tenant, tenant.token, 401);
    expect(await settingsOf(tenant)).toMatchObject({
      provider: "entra",
      userSync: true,
      groupSync: false,
      defaultRole: "member",
      domainRestrictions: ["example.com", "example.org", "sub.example.net"],
      token: { lastFour: token.slice(-4) },
    });
  });

  it("shows the Okta steps and clears optional settings left empty", async () => {
    const tenant = await createTenantWithLink({ provider: "generic", defaultRole: "admin", domainRestrictions: ["acme.com"] });
    const res = await submit(tenant.setupUrl, { provider: "okta", groupSync: "on", defaultRole: "", domainRestrictions: " " });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("SCIM connector base URL");
    expect(html).toContain("<code>userName</code>");
    expect(html).toContain("HTTP Header");
    expect(await settingsOf(tenant)).toMatchObject({
      provider: "okta",
      userSync: false,
      groupSync: true,
      defaultRole: null,
      domainRestrictions: [],
    });
  });

  it("lists the tenant's role and entitlement ids to configure in the IdP (issue 12), and no Roles section without a catalog", async () => {
    const tenant = await createTenantWithLink({ provider: "entra" });
    await admin(`/tenants/${tenant.id}/roles/board-owner`, { method: "PUT", json: { displayName: "Board owner" } });
    await admin(`/tenants/${tenant.id}/entitlements/pro-seat`, { method: "PUT", json: { displayName: "Pro seat", type: "License" } });
    const html = await (await submit(tenant.setupUrl, { provider: "entra", userSync: "on" })).text();
    expect(html).toContain("<h2>Roles</h2>");
    expect(html).toContain("<code>board-owner</code>");
    expect(html).toContain("<code>pro-seat</code>");
    expect(html).toContain("App roles");
    const bare = await createTenantWithLink({ provider: "okta" });
    expect(await (await submit(bare.setupUrl, { provider: "okta", userSync: "on" })).text()).not.toContain("<h2>Roles</h2>");
  });

  it("answers 410 to a second submission and leaves the issued token alone", async () => {
    const tenant = await createTenantWithLink();
    const first = await submit(tenant.setupUrl, ENTRA_FORM);
    const token = inputValue(await first.text(), "scim-token");

    const second = await submit(tenant.setupUrl, { ...ENTRA_FORM, provider: "okta", groupSync: "on" });
    expect(second.status).toBe(410);
    expectSetupHeaders(second);
    const html = await second.text();
    expect(html).toContain("This setup link has already been used");
    expect(html).not.toContain("scim_");

    await expectTokenStatus(tenant, token, 200);
    expect(await settingsOf(tenant)).toMatchObject({ provider: "entra", groupSync: false, token: { lastFour: token.slice(-4) } });

    const reopened = await call(tenant.setupUrl);
    expect(reopened.status).toBe(410);
    expect(await reopened.text()).toContain("This setup link has already been used");
  });

  it("records the token the page issued as a tenant.token_rotated event, once, like an operator rotation", async () => {
    const tenant = await createTenantWithLink();
    expect((await submit(tenant.setupUrl, ENTRA_FORM)).status).toBe(200);
    expect((await submit(tenant.setupUrl, ENTRA_FORM)).status).toBe(410);
    const feed = await admin(`/tenants/${tenant.id}/events?limit=100`);
    const { events } = await feed.json<{ events: { type: string }[] }>();
    expect(events.filter((e) => e.type === "tenant.token_rotated")).toHaveLength(1);
  });

  it("re-renders the form with the error for an invalid domain and changes nothing", async () => {
    const tenant = await createTenantWithLink({ provider: "okta", defaultRole: "viewer" });
    const before = await settingsOf(tenant);
    const res = await submit(tenant.setupUrl, { ...ENTRA_FORM, domainRestrictions: "example.com, not_a domain!" });
    expect(res.status).toBe(400);
    expectSetupHeaders(res);
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain("“not_a” must be a domain name like example.com");
    expect(html).toContain("“domain!” must be a domain name like example.com");
    // What the admin typed is kept, so they only fix the mistake.
    expect(html).toContain("example.com, not_a domain!</textarea>");
    expect(html).toMatch(/<input[^>]*value="entra"[^>]*checked/);
    expect(html).not.toContain("scim-token");

    expect(await settingsOf(tenant)).toEqual(before);
    await expectTokenStatus(tenant, tenant.token, 200);
    expect((await call(tenant.setupUrl)).status).toBe(200);
  });

  it("rejects an unknown provider and a form that is not a form", async () => {
    const tenant = await createTenantWithLink();
    const bad = await submit(tenant.setupUrl, { ...ENTRA_FORM, provider: "onelogin" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Identity provider:");

    const json = await call(tenant.setupUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: ORIGIN },
      body: JSON.stringify({ provider: "entra" }),
    });
    expect(json.status).toBe(400);
    await expectTokenStatus(tenant, tenant.token, 200);
  });
});

describe("expired setup links", () => {
  it("answers 410 to an expired link and changes nothing", async () => {
    const tenant = await createTenant();
    const created = await admin(`/tenants/${tenant.id}/setup-links`, { method: "POST" });
    expect(created.status).toBe(201);
    const { url } = await created.json<{ url: string }>();
    await env.DB.prepare("UPDATE setup_links SET expires_at = ? WHERE tenant_id = ?")
      .bind(new Date(Date.now() - 60_000).toISOString(), tenant.id)
      .run();

    const page = await call(url);
    expect(page.status).toBe(410);
    expectSetupHeaders(page);
    expect(await page.text()).toContain("has expired — ask the application&#39;s administrator for a new link");

    const post = await submit(url, ENTRA_FORM);
    expect(post.status).toBe(410);
    expect(await post.text()).not.toContain("scim_");
    await expectTokenStatus(tenant, tenant.token, 200);
  });
});

async function issueLink(tenant: Pick<TestTenant, "id">): Promise<string> {
  const res = await admin(`/tenants/${tenant.id}/setup-links`, { method: "POST" });
  const body = await res.json<{ url: string }>();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.url;
}

/** A link that issues nothing: the page says why, a POST shows no token and the tenant's token still works. */
async function expectRefused(tenant: TestTenant, url: string, status: number, message: string) {
  const page = await call(url);
  expect(page.status).toBe(status);
  expectSetupHeaders(page);
  const html = await page.text();
  expect(html, html).toContain(message);
  expect(html).not.toContain('name="provider"');

  const post = await submit(url, { ...ENTRA_FORM, confirmDisconnect: "on" });
  expect(post.status).toBe(status);
  expectSetupHeaders(post);
  const posted = await post.text();
  expect(posted, posted).toContain(message);
  expect(posted).not.toContain("scim_");
  await expectTokenStatus(tenant, tenant.token, 200);
}

const REVOKED = "This setup link was revoked by the application&#39;s administrator, or replaced by a newer link";

describe("one live setup link per tenant", () => {
  it("revokes the previous link when a new one is issued", async () => {
    const tenant = await createTenantWithLink();
    const second = await issueLink(tenant);
    const third = await issueLink(tenant);

    await expectRefused(tenant, tenant.setupUrl, 410, REVOKED);
    await expectRefused(tenant, second, 410, REVOKED);
    const live = await env.DB.prepare("SELECT count(*) AS n FROM setup_links WHERE tenant_id = ? AND used_at IS NULL AND revoked_at IS NULL")
      .bind(tenant.id)
      .first<{ n: number }>();
    expect(live?.n).toBe(1);

    // The checks above used the token, so the IdP counts as connected now.
    const res = await submit(third, { ...ENTRA_FORM, confirmDisconnect: "on" });
    expect(res.status).toBe(200);
    await expectTokenStatus(tenant, inputValue(await res.text(), "scim-token"), 200);
  });

  it("keeps exactly one live link when several are issued at once", async () => {
    const tenant = await createTenant();
    const urls = await Promise.all(Array.from({ length: 6 }, () => issueLink(tenant)));
    const statuses = await Promise.all(urls.map(async (url) => (await call(url)).status));
    expect(statuses.filter((status) => status === 200), JSON.stringify(statuses)).toHaveLength(1);
    expect(statuses.filter((status) => status === 410)).toHaveLength(5);
  });

  it("DELETE /admin/tenants/{id}/setup-links revokes the live link, and only this tenant's", async () => {
    const tenant = await createTenantWithLink();
    const other = await createTenantWithLink();
    const res = await admin(`/tenants/${tenant.id}/setup-links`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(res.headers.get("Cache-Control")).toBe("no-store");

    await expectRefused(tenant, tenant.setupUrl, 410, REVOKED);
    expect((await call(other.setupUrl)).status).toBe(200);
    // Idempotent: nothing left to revoke is still a 204.
    expect((await admin(`/tenants/${tenant.id}/setup-links`, { method: "DELETE" })).status).toBe(204);
    // A revoked link stays revoked; a new one works.
    const fresh = await issueLink(tenant);
    expect((await call(fresh)).status).toBe(200);
    expect((await call(tenant.setupUrl)).status).toBe(410);
  });

  it("DELETE answers 404 for an unknown tenant and revokes nothing", async () => {
    const tenant = await createTenantWithLink();
    const res = await admin(`/tenants/${crypto.randomUUID()}/setup-links`, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect((await call(tenant.setupUrl)).status).toBe(200);
  });
});

describe("setup links of a disabled tenant", () => {
  it("show a 403 page and issue nothing; the link works again once the tenant is enabled", async () => {
    const tenant = await createTenantWithLink();
    const disabled = await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { enabled: false } });
    expect(disabled.status).toBe(200);

    const page = await call(tenant.setupUrl);
    expect(page.status).toBe(403);
    expectSetupHeaders(page);
    expect(await page.text()).toContain(
      "SCIM provisioning is disabled for this organisation; ask the operator to enable it",
    );
    const post = await submit(tenant.setupUrl, ENTRA_FORM);
    expect(post.status).toBe(403);
    expect(await post.text()).not.toContain("scim_");
    const before = await settingsOf(tenant);
    expect(before).toMatchObject({ provider: "generic", token: { lastFour: tenant.token.slice(-4) } });

    expect((await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { enabled: true } })).status).toBe(200);
    expect((await call(tenant.setupUrl)).status).toBe(200);
  });
});

const CONNECTED_WARNING = "An identity provider is connected:";

/** The IdP uses its token; "last used" is stamped after the response (waitUntil). */
async function useTokenAsIdp(tenant: TestTenant): Promise<void> {
  await expectTokenStatus(tenant, tenant.token, 200);
  await expect
    .poll(async () => (await admin(`/tenants/${tenant.id}`).then((r) => r.json<{ token: { lastUsedAt: string | null } }>())).token.lastUsedAt)
    .not.toBeNull();
}

describe("a tenant whose IdP uses its token", () => {
  it("warns that continuing disconnects the IdP and issues nothing without the confirmation", async () => {
    const tenant = await createTenantWithLink({ provider: "okta" });
    await useTokenAsIdp(tenant);

    const page = await call(tenant.setupUrl);
    expect(page.status).toBe(200);
    const form = await page.text();
    expect(form).toContain(CONNECTED_WARNING);
    expect(form).toMatch(/<input[^>]*name="confirmDisconnect"[^>]*required/);

    const unconfirmed = await submit(tenant.setupUrl, ENTRA_FORM);
    expect(unconfirmed.status).toBe(400);
    expectSetupHeaders(unconfirmed);
    const html = await unconfirmed.text();
    expect(html).toContain(CONNECTED_WARNING);
    expect(html).toContain("Disconnect the current identity provider: tick the box");
    expect(html).not.toContain("scim-token");
    // What the admin chose is kept, and nothing changed.
    expect(html).toMatch(/<input[^>]*value="entra"[^>]*checked/);
    await expectTokenStatus(tenant, tenant.token, 200);
    expect(await settingsOf(tenant)).toMatchObject({ provider: "okta", token: { lastFour: tenant.token.slice(-4) } });

    const confirmed = await submit(tenant.setupUrl, { ...ENTRA_FORM, confirmDisconnect: "on" });
    expect(confirmed.status).toBe(200);
    const token = inputValue(await confirmed.text(), "scim-token");
    await expectTokenStatus(tenant, token, 200);
    await expectTokenStatus(tenant, tenant.token, 401);
  });

  it("asks nothing when the token was last used more than 30 days ago", async () => {
    const tenant = await createTenantWithLink();
    await (await shardOf(tenant.id)).prepare("UPDATE tenants SET token_last_used_at = ? WHERE id = ?")
      .bind(new Date(Date.now() - 31 * 86_400_000).toISOString(), tenant.id)
      .run();
    const form = await (await call(tenant.setupUrl)).text();
    expect(form).not.toContain(CONNECTED_WARNING);
    expect(form).not.toContain('name="confirmDisconnect"');
    expect((await submit(tenant.setupUrl, ENTRA_FORM)).status).toBe(200);
  });

  it("asks when it was used 29 days ago", async () => {
    const tenant = await createTenantWithLink();
    await (await shardOf(tenant.id)).prepare("UPDATE tenants SET token_last_used_at = ? WHERE id = ?")
      .bind(new Date(Date.now() - 29 * 86_400_000).toISOString(), tenant.id)
      .run();
    expect(await (await call(tenant.setupUrl)).text()).toContain(CONNECTED_WARNING);
    expect((await submit(tenant.setupUrl, ENTRA_FORM)).status).toBe(400);
    await expectTokenStatus(tenant, tenant.token, 200);
  });
});

describe("the setup form's Origin check", () => {
  it.each([
    ["another site's origin", "https://evil.example"],
    ["the opaque origin null", "null"],
    ["the public origin's host over http", ORIGIN.replace("https:", "http:")],
    ["no Origin header", null],
  ])("refuses a POST with %s: 403, nothing issued", async (_label, origin) => {
    const tenant = await createTenantWithLink();
    const res = await submit(tenant.setupUrl, ENTRA_FORM, origin);
    expect(res.status).toBe(403);
    expectSetupHeaders(res);
    const html = await res.text();
    expect(html).toContain("This form was not submitted from its setup page");
    expect(html).not.toContain("scim_");
    await expectTokenStatus(tenant, tenant.token, 200);
    expect(await settingsOf(tenant)).toMatchObject({ provider: "generic", token: { lastFour: tenant.token.slice(-4) } });
    expect((await call(tenant.setupUrl)).status).toBe(200);
  });
});
