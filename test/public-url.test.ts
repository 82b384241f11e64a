/**
 * URLs handed out (SCIM base URLs, setup links, Location, meta.location) never come from the
 * client's Host header: PUBLIC_URL when set; when it is empty, the request's origin only on a
 * loopback hostname, and anywhere else a 503 before anything is written (issue 10 §4).
 *
 * The tests' PUBLIC_URL is set (vitest.config.ts), as a deployment's is. A request to
 * `http://evil.example/…` is what a forged `Host: evil.example` becomes inside the Worker.
 * The empty-PUBLIC_URL cases call the same Worker with the same bindings but PUBLIC_URL "".
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { expectScimError } from "./support/expect-scim-error";
import { TEST_ADMIN_TOKEN } from "./support/admin-token";
import { admin, call, createTenant, ORIGIN, scim, type TestTenant } from "./support/http";
import { USER } from "./support/urns";
import { shardOf } from "./support/shards";

const EVIL = "http://evil.example";

interface CreatedJson {
  tenant: { id: string; shard: string };
  scim: { baseUrl: string; token: string };
  setupUrl?: string;
}

function adminInit(init: RequestInit & { json?: unknown } = {}): RequestInit {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("Authorization", `Bearer ${TEST_ADMIN_TOKEN}`);
  if (json !== undefined) headers.set("Content-Type", "application/json");
  return { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) };
}

/** The Worker with PUBLIC_URL empty, as wrangler.toml ships it. */
async function withoutPublicUrl(url: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(url, init), { ...env, PUBLIC_URL: "" }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Counted in the directory (tenants, setup links) or in the shard of the tenant (the first parameter) for its data. */
async function count(sql: string, ...params: string[]): Promise<number> {
  const db = /\b(tenants|setup_links)\b/.test(sql) ? env.DB : await shardOf(params[0] ?? "");
  return (await db.prepare(sql).bind(...params).first<{ n: number }>())?.n ?? 0;
}

describe("with PUBLIC_URL set", () => {
  it("hands out only PUBLIC_URL, whatever host the request names", async () => {
    const created = await call(`${EVIL}/admin/tenants`, adminInit({ method: "POST", json: { name: "Evil host", provider: "okta", setupLink: true } }));
    const body = await created.json<CreatedJson>();
    expect(created.status, JSON.stringify(body)).toBe(201);
    expect(body.scim.baseUrl).toBe(`${ORIGIN}/scim/v2/${body.tenant.id}`);
    expect(body.setupUrl).toMatch(new RegExp(`^${ORIGIN}/setup/`));
    const tenant: TestTenant = { id: body.tenant.id, token: body.scim.token, baseUrl: `${EVIL}/scim/v2/${body.tenant.id}`, shard: body.tenant.shard };

    const rotated = await call(`${EVIL}/admin/tenants/${tenant.id}/token`, adminInit({ method: "POST" }));
    const rotatedBody = await rotated.json<{ scim: { baseUrl: string; token: string } }>();
    expect(rotatedBody.scim.baseUrl).toBe(`${ORIGIN}/scim/v2/${tenant.id}`);
    tenant.token = rotatedBody.scim.token;

    const link = await call(`${EVIL}/admin/tenants/${tenant.id}/setup-links`, adminInit({ method: "POST" }));
    expect((await link.json<{ url: string }>()).url).toMatch(new RegExp(`^${ORIGIN}/setup/`));

    const user = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "host@example.com" } });
    const userBody = await user.json<{ id: string; meta: { location: string } }>();
    expect(user.status, JSON.stringify(userBody)).toBe(201);
    expect(user.headers.get("Location")).toBe(`${ORIGIN}/scim/v2/${tenant.id}/Users/${userBody.id}`);
    expect(userBody.meta.location).toBe(`${ORIGIN}/scim/v2/${tenant.id}/Users/${userBody.id}`);
    const config = await scim(tenant, "/ServiceProviderConfig");
    expect(JSON.stringify(await config.json())).not.toContain("evil.example");
  });

  it("shows the PUBLIC_URL base URL on the setup result page", async () => {
    const tenant = await createTenant({ setupLink: true });
    const code = new URL(tenant.setupUrl ?? "").pathname;
    const res = await call(`${EVIL}${code}`, {
      method: "POST",
      headers: { Origin: ORIGIN },
      body: new URLSearchParams({ provider: "okta", userSync: "on" }),
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`value="${ORIGIN}/scim/v2/${tenant.id}"`);
    expect(html).not.toContain("evil.example");
  });

  it("refuses a setup form posted from the forged host's origin", async () => {
    const tenant = await createTenant({ setupLink: true });
    const code = new URL(tenant.setupUrl ?? "").pathname;
    const res = await call(`${EVIL}${code}`, { method: "POST", headers: { Origin: EVIL }, body: new URLSearchParams({ provider: "okta" }) });
    expect(res.status).toBe(403);
    expect((await admin(`/tenants/${tenant.id}`).then((r) => r.json<{ token: { lastFour: string } }>())).token.lastFour).toBe(
      tenant.token.slice(-4),
    );
  });
});

describe("with PUBLIC_URL empty", () => {
  it.each(["http://127.0.0.1:8787", "http://localhost:8790", "http://[::1]:8787"])(
    "uses the request's origin on the loopback host %s",
    async (origin) => {
      const res = await withoutPublicUrl(`${origin}/admin/tenants`, adminInit({ method: "POST", json: { name: "Local", provider: "generic", setupLink: true } }));
      const body = await res.json<CreatedJson>();
      expect(res.status, JSON.stringify(body)).toBe(201);
      expect(body.scim.baseUrl).toBe(`${origin}/scim/v2/${body.tenant.id}`);
      expect(body.setupUrl).toMatch(new RegExp(`^${origin.replace(/[[\]]/g, "\\$&")}/setup/`));

      const setupPath = new URL(body.setupUrl ?? "").pathname;
      const result = await withoutPublicUrl(`${origin}${setupPath}`, {
        method: "POST",
        headers: { Origin: origin },
        body: new URLSearchParams({ provider: "generic", userSync: "on" }),
      });
      expect(result.status).toBe(200);
      expect(await result.text()).toContain(`value="${origin}/scim/v2/${body.tenant.id}"`);
    },
  );

  it("answers 503 to tenant creation on any other host and creates nothing", async () => {
    const before = await count("SELECT count(*) AS n FROM tenants");
    const res = await withoutPublicUrl(`${EVIL}/admin/tenants`, adminInit({ method: "POST", json: { name: "Evil", provider: "okta", setupLink: true } }));
    const error = await expectScimError(res, 503);
    expect(error.detail).toContain("PUBLIC_URL is not configured: set it in wrangler.toml [vars]");
    expect(JSON.stringify(error)).not.toContain("evil.example");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await count("SELECT count(*) AS n FROM tenants")).toBe(before);
  });

  it("answers 503 to token rotation and link issuance on another host and changes nothing", async () => {
    const tenant = await createTenant({ setupLink: true });
    await expectScimError(await withoutPublicUrl(`${EVIL}/admin/tenants/${tenant.id}/token`, adminInit({ method: "POST" })), 503);
    expect((await scim(tenant, "/ServiceProviderConfig")).status).toBe(200);

    await expectScimError(await withoutPublicUrl(`${EVIL}/admin/tenants/${tenant.id}/setup-links`, adminInit({ method: "POST" })), 503);
    expect(await count("SELECT count(*) AS n FROM setup_links WHERE tenant_id = ?", tenant.id)).toBe(1);
    expect((await call(tenant.setupUrl ?? "")).status).toBe(200);
  });

  it("answers 503 to SCIM requests on another host before writing", async () => {
    const tenant = await createTenant();
    const res = await withoutPublicUrl(`${EVIL}/scim/v2/${tenant.id}/Users`, {
      method: "POST",
      headers: { Authorization: `Bearer ${tenant.token}`, "Content-Type": "application/scim+json" },
      body: JSON.stringify({ schemas: [USER], userName: "never@example.com" }),
    });
    await expectScimError(res, 503);
    expect(await count("SELECT count(*) AS n FROM users WHERE tenant_id = ?", tenant.id)).toBe(0);
  });

  it("shows a 503 setup page on another host and issues nothing", async () => {
    const tenant = await createTenant({ setupLink: true });
    const code = new URL(tenant.setupUrl ?? "").pathname;
    const page = await withoutPublicUrl(`${EVIL}${code}`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain("public address is not configured");
    const post = await withoutPublicUrl(`${EVIL}${code}`, {
      method: "POST",
      headers: { Origin: EVIL },
      body: new URLSearchParams({ provider: "okta", userSync: "on" }),
    });
    expect(post.status).toBe(503);
    expect(await post.text()).not.toContain("scim_");
    expect((await scim(tenant, "/ServiceProviderConfig")).status).toBe(200);
    expect((await call(tenant.setupUrl ?? "")).status).toBe(200);
  });
});
