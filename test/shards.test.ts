/**
 * Tenants on two shards (issue 15): the deployment's TENANT_SHARDS = "DB,SHARD_1" (wrangler.toml),
 * sent straight to the app's fetch handler through the counting env, which records the binding
 * of every round trip. The directory is DB; a tenant's data lives only in its shard.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingEnv, send, type RoundTripRecord } from "./support/counting-env";
import { TEST_ADMIN_TOKEN } from "./support/admin-token";
import { ORIGIN } from "./support/http";
import { GROUP, PATCH_OP, USER } from "./support/urns";

const counting = countingEnv({ ...env, TENANT_SHARDS: "DB,SHARD_1" });

interface Tenant {
  id: string;
  token: string;
  shard: string;
}

async function request(path: string, init: { method?: string; json?: unknown; token?: string } = {}): Promise<{ response: Response; trips: RoundTripRecord[] }> {
  const headers = new Headers({ Authorization: `Bearer ${init.token ?? TEST_ADMIN_TOKEN}` });
  if (init.json !== undefined) headers.set("Content-Type", "application/json");
  const sent = await send(counting, new Request(`${ORIGIN}${path}`, { method: init.method ?? "GET", headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) }));
  return { response: sent.response, trips: [...counting.roundTrips] };
}

async function createTenant(shard?: string): Promise<Tenant> {
  const { response } = await request("/admin/tenants", { method: "POST", json: { name: `T ${crypto.randomUUID().slice(0, 6)}`, provider: "generic", ...(shard && { shard }) } });
  const body = await response.json<{ tenant: { id: string; shard: string }; scim: { token: string } }>();
  expect(response.status, JSON.stringify(body)).toBe(201);
  return { id: body.tenant.id, token: body.scim.token, shard: body.tenant.shard };
}

function scim(tenant: Tenant, path: string, init: { method?: string; json?: unknown; token?: string } = {}) {
  return request(`/scim/v2/${tenant.id}${path}`, { ...init, token: init.token ?? tenant.token });
}

const DIRECTORY_TABLES = /\b(tenants|setup_links|webhook_endpoints|webhook_deliveries)\b/;

/** Every statement that binds the tenant's id ran on its shard, or is a directory statement on DB. */
function expectOnlyOnShard(trips: readonly RoundTripRecord[], tenant: Tenant): void {
  for (const trip of trips) {
    for (const statement of trip.statements) {
      if (!statement.params.includes(tenant.id) || trip.binding === tenant.shard) continue;
      const directoryOnly = trip.binding === "DB" && DIRECTORY_TABLES.test(statement.sql) && !/\b(users|groups|group_members|user_emails|events|request_log|auth_failures|app_accounts|app_groups|user_seq_blocks|group_seq_blocks)\b/.test(statement.sql);
      expect(directoryOnly, `${tenant.id} on ${tenant.shard}, but ${trip.binding} ran: ${statement.sql}`).toBe(true);
    }
  }
}

async function rows(db: D1Database, table: string, tenantId: string): Promise<number> {
  return (await db.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenantId).first<{ n: number }>())?.n ?? 0;
}

describe("tenants on two shards", () => {
  it("places a tenant on the shard POST /admin/tenants names, shows it, and refuses an unknown one", async () => {
    const onShard1 = await createTenant("SHARD_1");
    expect(onShard1.shard).toBe("SHARD_1");
    const shown = await (await request(`/admin/tenants/${onShard1.id}`)).response.json<{ shard: string }>();
    expect(shown.shard).toBe("SHARD_1");
    const before = await env.DB.prepare("SELECT count(*) AS n FROM tenants").first<{ n: number }>();
    const refused = await request("/admin/tenants", { method: "POST", json: { name: "x", provider: "generic", shard: "SHARD_9" } });
    expect(refused.response.status).toBe(400);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM tenants").first<{ n: number }>())?.n).toBe(before?.n);
  });

  it("places a new tenant on the shard with the least data, and GET /admin/shards counts tenants and users", async () => {
    const summary = async () => (await (await request("/admin/shards")).response.json<{ shards: { shard: string; tenants: number; users: number; userDocChars: number }[] }>()).shards;
    const start = await summary();
    expect(start.map((s) => s.shard)).toEqual(["DB", "SHARD_1"]);
    // Make DB the larger one, whatever the other tests left.
    const big = await createTenant("DB");
    const extra = Math.max(0, ...start.map((s) => s.users)) + 2;
    for (let i = 0; i < extra; i += 1) expect((await scim(big, "/Users", { method: "POST", json: { schemas: [USER], userName: `u${i}@big.example` } })).response.status).toBe(201);
    const after = await summary();
    const db = after.find((s) => s.shard === "DB");
    expect(db?.tenants).toBe((start.find((s) => s.shard === "DB")?.tenants ?? 0) + 1);
    expect(db?.users).toBe((start.find((s) => s.shard === "DB")?.users ?? 0) + extra);
    const placed = await createTenant();
    expect(placed.shard).toBe("SHARD_1");
  });

  it("runs every query for a tenant's data on its shard, for tenants on each shard", async () => {
    for (const shard of ["DB", "SHARD_1"]) {
      const tenant = await createTenant(shard);
      const trips: RoundTripRecord[] = [];
      const run = async (path: string, init: { method?: string; json?: unknown } = {}) => {
        const sent = await scim(tenant, path, init);
        trips.push(...sent.trips);
        return sent.response;
      };
      const user = await (await run("/Users", { method: "POST", json: { schemas: [USER], userName: "pat@example.com", emails: [{ value: "pat@example.com", primary: true }] } })).json<{ id: string }>();
      await run(`/Users/${user.id}`);
      await run(`/Users?filter=${encodeURIComponent('userName eq "pat@example.com"')}`);
      await run(`/Users/${user.id}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] } });
      const group = await (await run("/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Eng", members: [{ value: user.id }] } })).json<{ id: string }>();
      await run(`/Groups/${group.id}`);
      await run(`/Users/${user.id}`, { method: "DELETE" });
      for (const path of ["", "/events", "/log", "/users"]) trips.push(...(await request(`/admin/tenants/${tenant.id}${path}`)).trips);
      expect(trips.length).toBeGreaterThan(8);
      expectOnlyOnShard(trips, tenant);
      const other = shard === "DB" ? env.SHARD_1 : env.DB;
      const own = shard === "DB" ? env.DB : env.SHARD_1;
      for (const table of ["users", "groups", "events", "request_log"]) expect(await rows(other, table, tenant.id), table).toBe(0);
      expect(await rows(own, "events", tenant.id)).toBeGreaterThan(0);
    }
  });

  it("isolates tenants on different shards: same names, no cross-tenant reads, tokens, or ids", async () => {
    const a = await createTenant("DB");
    const b = await createTenant("SHARD_1");
    const body = { schemas: [USER], userName: "same@example.com" };
    const userA = await (await scim(a, "/Users", { method: "POST", json: body })).response.json<{ id: string }>();
    const created = await scim(b, "/Users", { method: "POST", json: body });
    expect(created.response.status).toBe(201);
    expect((await scim(b, `/Users/${userA.id}`)).response.status).toBe(404);
    expect((await scim(b, "/Users", { token: a.token })).response.status).toBe(401);
    const listed = await (await scim(b, "/Users")).response.json<{ totalResults: number }>();
    expect(listed.totalResults).toBe(1);
  });

  it("refuses a rotated token at the very next write, and a disabled tenant's, on either shard", async () => {
    for (const shard of ["DB", "SHARD_1"]) {
      const tenant = await createTenant(shard);
      const rotated = await request(`/admin/tenants/${tenant.id}/token`, { method: "POST" });
      expect(rotated.response.status).toBe(200);
      // The shard copy was written before the directory: the old token fails in the write's own batch.
      const stale = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "late@example.com" } });
      expect(stale.response.status).toBe(401);
      const fresh = { ...tenant, token: (await rotated.response.json<{ scim: { token: string } }>()).scim.token };
      expect((await scim(fresh, "/Users", { method: "POST", json: { schemas: [USER], userName: "ok@example.com" } })).response.status).toBe(201);
      expect((await request(`/admin/tenants/${tenant.id}`, { method: "PATCH", json: { enabled: false } })).response.status).toBe(200);
      expect((await scim(fresh, "/Users", { method: "POST", json: { schemas: [USER], userName: "off@example.com" } })).response.status).toBe(403);
      const own = shard === "DB" ? env.DB : env.SHARD_1;
      expect(await rows(own, "users", tenant.id)).toBe(1);
    }
  });
});
