/** The operator API: tenants, tokens, setup links (issue: foundation). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { sha256 } from "./support/hash";
import { admin, call, createTenant, ORIGIN, scim } from "./support/http";
import { USER } from "./support/urns";
import { everyShard } from "./support/shards";

interface TenantJson {
  id: string;
  name: string;
  provider: string;
  enabled: boolean;
  userSync: boolean;
  groupSync: boolean;
  defaultRole: string | null;
  domainRestrictions: string[];
  token: { prefix: string; lastFour: string; createdAt: string; lastUsedAt: string | null } | null;
}

describe("operator API authentication", () => {
  it("answers 401 without the admin token", async () => {
    const res = await call("/admin/tenants");
    await expectScimError(res, 401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });

  it("answers 401 with a wrong admin token", async () => {
    await expectScimError(await call("/admin/tenants", { headers: { Authorization: "Bearer nope" } }), 401);
  });

  it("answers 401 to a tenant's SCIM token", async () => {
    const tenant = await createTenant();
    await expectScimError(await call("/admin/tenants", { headers: { Authorization: `Bearer ${tenant.token}` } }), 401);
  });
});

describe("POST /admin/tenants", () => {
  it("creates a tenant and returns its SCIM base URL and a token shown once, uncached, and no setup link", async () => {
    const res = await admin("/tenants", {
      method: "POST",
      json: { name: "Acme", provider: "okta", groupSync: false, defaultRole: "member", domainRestrictions: ["Acme.com"] },
    });
    const body = await res.json<{ tenant: TenantJson; scim: { baseUrl: string; token: string }; setupUrl?: string }>();
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body.tenant).toMatchObject({
      name: "Acme",
      provider: "okta",
      enabled: true,
      userSync: true,
      groupSync: false,
      defaultRole: "member",
      domainRestrictions: ["acme.com"],
    });
    expect(body.scim.baseUrl).toBe(`${ORIGIN}/scim/v2/${body.tenant.id}`);
    expect(body).not.toHaveProperty("setupUrl");
    expect(await countSetupLinks(body.tenant.id)).toBe(0);
    expect(body.tenant.token).toMatchObject({ prefix: "scim_", lastFour: body.scim.token.slice(-4) });
    expect(JSON.stringify(body.tenant)).not.toContain(body.scim.token);
  });

  it("mints a setup link with the tenant when asked with setupLink: true", async () => {
    const res = await admin("/tenants", { method: "POST", json: { name: "Acme", provider: "okta", setupLink: true } });
    const body = await res.json<{ tenant: TenantJson; setupUrl: string }>();
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.setupUrl).toMatch(new RegExp(`^${ORIGIN}/setup/[A-Za-z0-9_-]{43}$`));
    expect(await countSetupLinks(body.tenant.id)).toBe(1);
    expect((await call(body.setupUrl)).status).toBe(200);

    const without = await admin("/tenants", { method: "POST", json: { name: "Acme", provider: "okta", setupLink: false } });
    expect(without.status).toBe(201);
    expect(await without.json()).not.toHaveProperty("setupUrl");
  });

  it.each([
    ["no name", { provider: "okta" }],
    ["an unknown provider", { name: "x", provider: "onelogin" }],
    ["a domain that is not a domain", { name: "x", provider: "okta", domainRestrictions: ["not a domain"] }],
    ["an unknown field", { name: "x", provider: "okta", isAdmin: true }],
    ["a non-boolean sync flag", { name: "x", provider: "okta", userSync: "yes" }],
    ["a non-boolean setupLink", { name: "x", provider: "okta", setupLink: "yes" }],
  ])("answers 400 invalidValue to %s", async (_label, json) => {
    const before = await countTenants();
    await expectScimError(await admin("/tenants", { method: "POST", json }), 400, "invalidValue");
    expect(await countTenants()).toBe(before);
  });

  it("answers 400 invalidSyntax to malformed JSON", async () => {
    const res = await admin("/tenants", { method: "POST", body: "{", headers: { "Content-Type": "application/json" } });
    await expectScimError(res, 400, "invalidSyntax");
  });
});

describe("tenant reads and updates", () => {
  it("shows settings and token metadata, never the token or its hash", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const res = await admin(`/tenants/${tenant.id}`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(tenant.token);
    expect(text).not.toContain(await sha256(tenant.token));
    expect(JSON.parse(text)).toMatchObject({ id: tenant.id, provider: "entra", token: { prefix: "scim_" } });
  });

  it("lists tenants", async () => {
    const tenant = await createTenant();
    const body = await (await admin("/tenants?limit=1000")).json<{ tenants: TenantJson[] }>();
    expect(body.tenants.map((t) => t.id)).toContain(tenant.id);
  });

  it("updates settings with PATCH", async () => {
    const tenant = await createTenant();
    const res = await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { userSync: false, defaultRole: "viewer" } });
    expect(await res.json()).toMatchObject({ userSync: false, defaultRole: "viewer", groupSync: true });
  });

  it("answers 400 to an invalid PATCH and changes nothing", async () => {
    const tenant = await createTenant();
    await expectScimError(await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { enabled: "no" } }), 400, "invalidValue");
    expect(await (await admin(`/tenants/${tenant.id}`)).json()).toMatchObject({ enabled: true });
  });

  it.each(["GET", "PATCH", "DELETE"])("answers 404 to %s of an unknown tenant", async (method) => {
    const init = method === "PATCH" ? { method, json: { enabled: false } } : { method };
    await expectScimError(await admin(`/tenants/${crypto.randomUUID()}`, init), 404);
  });

  it("deletes a tenant with its data and token; a second delete is 404", async () => {
    const tenant = await createTenant();
    const created = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "gone@example.com", emails: [{ value: "gone@example.com" }] } });
    expect(created.status).toBe(201);
    const hash = await sha256(tenant.token);
    expect((await admin(`/tenants/${tenant.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await env.TOKENS.get(`token:v1:${hash}`)).toBeNull();
    // Every table that carries tenant_id, found from the schema itself, so a new table cannot be forgotten.
    // In the directory and every shard: all run the same schema.
    for (const db of [env.DB, ...everyShard()]) {
      const all = await db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all<{ name: string; sql: string }>();
      const tables = all.results.filter((t) => t.sql.includes("`tenant_id`"));
      expect(tables.length).toBeGreaterThan(8);
      for (const { name } of tables) {
        const left = await db.prepare(`SELECT COUNT(*) AS n FROM "${name}" WHERE tenant_id = ?`).bind(tenant.id).first<{ n: number }>();
        expect(left?.n, name).toBe(0);
      }
      expect((await db.prepare("SELECT COUNT(*) AS n FROM tenants WHERE id = ?").bind(tenant.id).first<{ n: number }>())?.n).toBe(0);
    }
    await expectScimError(await admin(`/tenants/${tenant.id}`, { method: "DELETE" }), 404);
  });
});

describe("tokens and setup links", () => {
  it("rotation returns the same base URL and a new token, and updates the metadata", async () => {
    const tenant = await createTenant();
    const res = await admin(`/tenants/${tenant.id}/token`, { method: "POST" });
    const body = await res.json<{ scim: { baseUrl: string; token: string } }>();
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body.scim.baseUrl).toBe(tenant.baseUrl);
    const view = await (await admin(`/tenants/${tenant.id}`)).json<TenantJson>();
    expect(view.token?.lastFour).toBe(body.scim.token.slice(-4));
  });

  it("issues a new setup link that expires in 7 days", async () => {
    const tenant = await createTenant();
    const res = await admin(`/tenants/${tenant.id}/setup-links`, { method: "POST" });
    const body = await res.json<{ url: string; expiresAt: string }>();
    expect(res.status).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body.url).toMatch(new RegExp(`^${ORIGIN}/setup/`));
    const days = (Date.parse(body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
  });
});

async function countSetupLinks(tenantId: string): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM setup_links WHERE tenant_id = ?").bind(tenantId).first<{ n: number }>())?.n ?? 0;
}

async function countTenants(): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants").first<{ n: number }>())?.n ?? 0;
}
