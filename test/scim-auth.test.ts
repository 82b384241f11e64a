/** Bearer authentication of SCIM requests (issue: foundation; BAD-INPUT.md token rows). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { sha256 } from "./support/hash";
import { admin, call, createTenant, scim } from "./support/http";
import { shardOf } from "./support/shards";

const SPC = "/ServiceProviderConfig";

describe("SCIM bearer authentication", () => {
  it("accepts the tenant's token", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, SPC);
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("issues a 256-bit token with a scim_ prefix", async () => {
    const tenant = await createTenant();
    expect(tenant.token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
  });

  it("answers 401 with WWW-Authenticate: Bearer when no token is sent", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, SPC, { token: null });
    await expectScimError(res, 401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });

  it("answers 401 to the Basic scheme", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, SPC, { token: null, headers: { Authorization: `Basic ${btoa(`user:${tenant.token}`)}` } });
    await expectScimError(res, 401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });

  it("answers 401 to a token in the query string", async () => {
    const tenant = await createTenant();
    const res = await call(`${tenant.baseUrl}${SPC}?access_token=${tenant.token}`);
    await expectScimError(res, 401);
  });

  it("answers 401 to a wrong token", async () => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, SPC, { token: `${tenant.token.slice(0, -1)}x` }), 401);
  });

  it("answers 401 to another tenant's token", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    await expectScimError(await scim(a, SPC, { token: b.token }), 401);
  });

  it("answers 401 to a token for a tenant id that does not exist", async () => {
    const tenant = await createTenant();
    await expectScimError(await scim({ ...tenant, baseUrl: tenant.baseUrl.replace(tenant.id, crypto.randomUUID()) }, SPC), 401);
  });

  it("voids the old token at the very next request after rotation", async () => {
    const tenant = await createTenant();
    expect((await scim(tenant, SPC)).status).toBe(200);
    const rotated = await admin(`/tenants/${tenant.id}/token`, { method: "POST" });
    expect(rotated.status).toBe(200);
    const { scim: issued } = await rotated.json<{ scim: { token: string; baseUrl: string } }>();
    expect(issued.token).not.toBe(tenant.token);
    expect(issued.baseUrl).toBe(tenant.baseUrl);
    await expectScimError(await scim(tenant, SPC), 401);
    expect((await scim(tenant, SPC, { token: issued.token })).status).toBe(200);
  });

  it("rejects a rotated token even while KV still maps it to the tenant (eventual consistency)", async () => {
    const tenant = await createTenant();
    const oldHash = await sha256(tenant.token);
    await admin(`/tenants/${tenant.id}/token`, { method: "POST" });
    // Simulate a KV replica that has not seen the rotation yet.
    await env.TOKENS.put(`token:v1:${oldHash}`, JSON.stringify({ tenantId: tenant.id }));
    await expectScimError(await scim(tenant, SPC), 401);
  });

  it("answers 403 with a clear detail while the tenant is disabled, and 200 again once enabled", async () => {
    const tenant = await createTenant();
    expect((await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { enabled: false } })).status).toBe(200);
    const body = await expectScimError(await scim(tenant, SPC), 403);
    expect(body.detail).toMatch(/disabled/i);
    expect((await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { enabled: true } })).status).toBe(200);
    expect((await scim(tenant, SPC)).status).toBe(200);
  });

  it("answers 401 once the tenant is deleted", async () => {
    const tenant = await createTenant();
    expect((await admin(`/tenants/${tenant.id}`, { method: "DELETE" })).status).toBe(204);
    await expectScimError(await scim(tenant, SPC), 401);
  });

  it("stores only a SHA-256 of the token, in D1 and KV", async () => {
    const tenant = await createTenant();
    const hash = await sha256(tenant.token);
    const row = await (await shardOf(tenant.id)).prepare("SELECT * FROM tenants WHERE id = ?").bind(tenant.id).first<Record<string, unknown>>();
    expect(row?.token_hash).toBe(hash);
    expect(JSON.stringify(row)).not.toContain(tenant.token);
    expect(await env.TOKENS.get(`token:v1:${hash}`, "json")).toEqual({ tenantId: tenant.id });
    const keys = await env.TOKENS.list();
    expect(JSON.stringify(keys)).not.toContain(tenant.token);
  });

  it("records when the token was last used", async () => {
    const tenant = await createTenant();
    expect((await scim(tenant, SPC)).status).toBe(200);
    await expect
      .poll(async () => (await (await admin(`/tenants/${tenant.id}`)).json<{ token: { lastUsedAt: string | null } }>()).token.lastUsedAt)
      .toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
  });
});
