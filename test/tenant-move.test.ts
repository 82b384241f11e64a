/**
 * POST /admin/tenants/{id}/move (issue 15): each test's tenant lives on one of the workers
 * project's two shards (SHARD_1, SHARD_2: least-data placement) and moves to the other. The tenant's Durable Object runs the move; its beforeMoveWrite hook lets a
 * test hold the copy (writes arriving meanwhile) or fail it half-way.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantCoordinator } from "../src/durable/tenant-coordinator";
import { rememberPlacement } from "../src/storage/shards";
import { admin, createTenant, scim, type TestTenant } from "./support/http";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardBinding } from "./support/shards";

const DATA_TABLES = ["users", "user_emails", "groups", "group_members", "events", "request_log", "user_seq_blocks", "group_seq_blocks"];

async function counts(db: D1Database, tenantId: string): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const table of DATA_TABLES) found[table] = (await db.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenantId).first<{ n: number }>())?.n ?? 0;
  return found;
}

async function populate(tenant: TestTenant): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 4; i += 1) {
    const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `u${i}@move.example`, emails: [{ value: `u${i}@move.example` }] } });
    expect(res.status).toBe(201);
    ids.push((await res.json<{ id: string }>()).id);
  }
  const group = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Movers", members: ids.slice(0, 3).map((value) => ({ value })) } });
  expect(group.status).toBe(201);
  expect((await scim(tenant, `/Users/${ids[3]}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] } })).status).toBe(200);
  expect((await scim(tenant, `/Users/${ids[0]}`, { method: "DELETE" })).status).toBe(204);
  return ids;
}

function setHook(tenantId: string, hook: (call: number) => Promise<void>): Promise<void> {
  return runInDurableObject(env.TENANT_COORDINATOR.getByName(tenantId), (instance: TenantCoordinator) => {
    let call = 0;
    instance.beforeMoveWrite = () => hook((call += 1));
  });
}

const feed = async (id: string) => (await (await admin(`/tenants/${id}/events?limit=1000`)).json<{ events: { type: string; resourceId: string }[] }>()).events.map((e) => [e.type, e.resourceId]);
const log = async (id: string) => (await (await admin(`/tenants/${id}/log?limit=1000`)).json<{ entries: { method: string; status: number }[] }>()).entries.map((e) => [e.method, e.status]);
const shardOf = async (id: string) => (await (await admin(`/tenants/${id}`)).json<{ shard: string }>()).shard;
/** The tenant's shard, and the other shard of the two, its move's target. */
const placementOf = (tenant: TestTenant) => {
  const to = tenant.shard === "SHARD_1" ? "SHARD_2" : "SHARD_1";
  return { from: tenant.shard, fromDb: shardBinding(tenant.shard), to, toDb: shardBinding(to) };
};

describe("moving a tenant between shards", () => {
  it("keeps every resource, event and log row, and the tenant works on its new shard", async () => {
    const tenant = await createTenant();
    const { from, fromDb, to, toDb } = placementOf(tenant);
    expect(["SHARD_1", "SHARD_2"]).toContain(from);
    expect(await shardOf(tenant.id)).toBe(from);
    await populate(tenant);
    const before = await counts(fromDb, tenant.id);
    const [events, entries, users] = [await feed(tenant.id), await log(tenant.id), await (await scim(tenant, "/Users")).json<{ Resources: unknown[] }>()];
    const moved = await admin(`/tenants/${tenant.id}/move`, { method: "POST", json: { shard: to } });
    expect(moved.status).toBe(200);
    expect(await shardOf(tenant.id)).toBe(to);
    expect(await counts(toDb, tenant.id)).toEqual(before);
    expect(Object.values(await counts(fromDb, tenant.id)).every((n) => n === 0)).toBe(true);
    expect(await feed(tenant.id)).toEqual(events);
    expect(await log(tenant.id)).toEqual(entries);
    expect((await (await scim(tenant, "/Users")).json<{ Resources: unknown[] }>()).Resources).toEqual(users.Resources);
    expect((await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "after@move.example" } })).status).toBe(201);
    expect((await counts(toDb, tenant.id)).users).toBe((before.users ?? 0) + 1);
    // An isolate that still remembers the old shard reads its tombstone: 503, then the new shard.
    rememberPlacement(tenant.id, from);
    const stale = await scim(tenant, "/Users");
    expect(stale.status).toBe(503);
    expect(stale.headers.get("Retry-After")).toBe("1");
    expect((await scim(tenant, "/Users")).status).toBe(200);
    // The old token still works, and a rotation now writes the new shard's copy.
    const rotated = await (await admin(`/tenants/${tenant.id}/token`, { method: "POST" })).json<{ scim: { token: string } }>();
    expect((await scim(tenant, "/Users")).status).toBe(401);
    expect((await scim({ ...tenant, token: rotated.scim.token }, "/Users")).status).toBe(200);
  });

  it("refuses writes that arrive during the copy (503, nothing written), answers reads, and loses no accepted write", async () => {
    const tenant = await createTenant();
    const { to, toDb } = placementOf(tenant);
    await populate(tenant);
    let reached = (): void => undefined;
    const atCopy = new Promise<void>((resolve) => (reached = resolve));
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await setHook(tenant.id, async (call) => {
      if (call === 1) {
        reached();
        await held;
      }
    });
    const move = admin(`/tenants/${tenant.id}/move`, { method: "POST", json: { shard: to } });
    await atCopy;
    const write = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "during@move.example" } });
    expect(write.status).toBe(503);
    expect(write.headers.get("Retry-After")).toBe("1");
    const read = await scim(tenant, "/Users");
    expect(read.status).toBe(200);
    expect((await read.json<{ totalResults: number }>()).totalResults).toBe(3);
    release();
    expect((await move).status).toBe(200);
    const after = await (await scim(tenant, `/Users?filter=${encodeURIComponent('userName eq "during@move.example"')}`)).json<{ totalResults: number }>();
    expect(after.totalResults).toBe(0);
    expect((await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "during@move.example" } })).status).toBe(201);
    expect((await counts(toDb, tenant.id)).users).toBe(4);
  });

  it("leaves the tenant whole on its old shard when the copy fails half-way", async () => {
    const tenant = await createTenant();
    const { from, fromDb, to, toDb } = placementOf(tenant);
    await populate(tenant);
    const before = await counts(fromDb, tenant.id);
    const events = await feed(tenant.id);
    await setHook(tenant.id, (call) => (call === 3 ? Promise.reject(new Error("injected failure mid-copy")) : Promise.resolve()));
    const moved = await admin(`/tenants/${tenant.id}/move`, { method: "POST", json: { shard: to } });
    expect(moved.status).toBe(503);
    expect(await shardOf(tenant.id)).toBe(from);
    expect(await counts(fromDb, tenant.id)).toEqual(before);
    expect(Object.values(await counts(toDb, tenant.id)).every((n) => n === 0)).toBe(true);
    expect(await feed(tenant.id)).toEqual(events);
    // Writes are accepted again once the failed move let go.
    expect((await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "after-failure@move.example" } })).status).toBe(201);
  });
});
