/** The self-serve setup page: form, one-time credentials, used/expired/unknown links. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, call, createTenant, scim, type TestTenant } from "./support/http";

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

function submit(setupUrl: string, fields: FormFields): Promise<Response> {
  return call(setupUrl, { method: "POST", body: new URLSearchParams(fields) });
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
  expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  expect(res.headers.get("Content-Security-Policy")).toMatch(/default-src 'none'/);
}

describe("GET /setup/:code", () => {
  it("renders the form for the tenant, with its provider preselected and no caching", async () => {
    const tenant = await createTenant({ name: "Acme <Corp>", provider: "okta", groupSync: false });
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
    const tenant = await createTenant();
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
    const tenant = await createTenant({ provider: "okta" });
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
    const tenant = await createTenant({ provider: "generic", defaultRole: "admin", domainRestrictions: ["acme.com"] });
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

  it("answers 410 to a second submission and leaves the issued token alone", async () => {
    const tenant = await createTenant();
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

  it("re-renders the form with the error for an invalid domain and changes nothing", async () => {
    const tenant = await createTenant({ provider: "okta", defaultRole: "viewer" });
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
    const tenant = await createTenant();
    const bad = await submit(tenant.setupUrl, { ...ENTRA_FORM, provider: "onelogin" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("Identity provider:");

    const json = await call(tenant.setupUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
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
