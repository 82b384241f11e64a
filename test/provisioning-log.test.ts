/** The provisioning log the operator reads per tenant (GET /admin/tenants/{id}/log). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256 } from "./support/hash";
import { admin, createTenant, scim } from "./support/http";
import { USER } from "./support/urns";

interface LogEntry {
  method: string;
  path: string;
  status: number;
  scimType: string | null;
  detail: string | null;
  userAgent: string | null;
  durationMs: number;
}

async function logOf(tenantId: string): Promise<LogEntry[]> {
  const res = await admin(`/tenants/${tenantId}/log`);
  expect(res.status).toBe(200);
  return (await res.json<{ entries: LogEntry[] }>()).entries;
}

// Only requests whose token KV maps to the tenant are logged: made-up tokens never write a row.
describe("provisioning log", () => {
  it("records writes and failures, newest first, with the SCIM error, and no secrets", async () => {
    const tenant = await createTenant();
    const headers = { "User-Agent": "Okta SCIM Client 1.0.0" };
    await scim(tenant, "/Users", { method: "POST", headers, json: { schemas: [USER], userName: "logged@example.com", password: "s3cret!" } });
    await scim(tenant, "/Users", { method: "POST", headers, json: { schemas: [USER], userName: "LOGGED@example.com" } });
    await scim(tenant, `/Users?filter=${encodeURIComponent('userName eq "logged@example.com"')}`, { headers });
    await scim(tenant, `/Users?filter=${encodeURIComponent("userName eq")}`, { headers });
    await expect.poll(async () => (await logOf(tenant.id)).length).toBe(3);
    const entries = await logOf(tenant.id);
    expect(entries.map((e) => [e.method, e.status, e.scimType])).toEqual([
      ["GET", 400, "invalidFilter"],
      ["POST", 409, "uniqueness"],
      ["POST", 201, null],
    ]);
    expect(entries[0]?.path).toContain('filter=userName eq');
    expect(entries[0]?.userAgent).toBe("Okta SCIM Client 1.0.0");
    // The created user's row rode in the create's own batch; it reads like any other.
    expect(entries[2]).toMatchObject({ path: `/scim/v2/${tenant.id}/Users`, userAgent: "Okta SCIM Client 1.0.0", detail: null });
    for (const entry of entries) expect(Number.isInteger(entry.durationMs) && entry.durationMs >= 0, JSON.stringify(entry)).toBe(true);
    const text = JSON.stringify(entries);
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain(tenant.token);
  });

  it("answers a write's own status and logs it when the query holds a malformed escape", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, "/Users?x=%ZZ", { method: "POST", json: { schemas: [USER], userName: "escape@example.com" } });
    expect(res.status, await res.clone().text()).toBe(201);
    await expect.poll(async () => (await logOf(tenant.id)).map((e) => [e.status, e.path])).toEqual([[201, `/scim/v2/${tenant.id}/Users?x=%ZZ`]]);
  });

  it("logs a rotated token the IdP still sends while KV lags, and nothing for another tenant", async () => {
    const [tenant, other] = await Promise.all([createTenant(), createTenant()]);
    await admin(`/tenants/${tenant.id}/token`, { method: "POST" });
    // A KV replica that has not seen the rotation still maps the old token to the tenant.
    await env.TOKENS.put(`token:v1:${await sha256(tenant.token)}`, JSON.stringify({ tenantId: tenant.id }));
    expect((await scim(tenant, "/Users")).status).toBe(401);
    await expect.poll(async () => (await logOf(tenant.id)).map((e) => e.status)).toEqual([401]);
    expect(await logOf(other.id)).toEqual([]);
  });
});
