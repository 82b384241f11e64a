/**
 * Deleting a user who is a group member changes those groups (issue 9, item 8a): each group's
 * version and lastModified move, so an IdP's If-None-Match no longer answers 304, and the
 * operator's feed hears of it through `group.members_changed`. (Deactivation removes no
 * membership, so it changes no group.)
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, onTestFinished } from "vitest";
import type { TenantCoordinator } from "../src/durable/tenant-coordinator";
import { DELETED_USER_GROUP_EVENTS } from "../src/storage/users";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { GroupJson } from "./support/scim-json";
import { seedUsers } from "./support/seed";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardBinding, shardNameOf, shardOf } from "./support/shards";

interface FeedEvent {
  type: string;
  resourceId: string;
  data: Record<string, unknown> | null;
}

async function newUser(tenant: TestTenant): Promise<string> {
  const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `u-${crypto.randomUUID()}@example.com` } });
  const body = await bodyOf<{ id: string }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.id;
}

async function newGroup(tenant: TestTenant, members: string[]): Promise<GroupJson> {
  const res = await scim(tenant, "/Groups", {
    method: "POST",
    json: { schemas: [GROUP], displayName: `g-${crypto.randomUUID()}`, members: members.map((value) => ({ value })) },
  });
  const body = await bodyOf<GroupJson>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function feed(tenant: TestTenant): Promise<FeedEvent[]> {
  const res = await admin(`/tenants/${tenant.id}/events?limit=1000`);
  const body = await bodyOf<{ events: FeedEvent[] }>(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.events;
}

describe("DELETE /Users/{id} of a group member", () => {
  it("bumps the version of every group the user was in, so If-None-Match with the old ETag answers 200 with the new membership", async () => {
    const tenant = await createTenant();
    const [leaver, stayer] = [await newUser(tenant), await newUser(tenant)];
    const [first, second] = [await newGroup(tenant, [leaver, stayer]), await newGroup(tenant, [leaver])];
    const untouched = await newGroup(tenant, [stayer]);
    const etags = new Map<string, string>();
    for (const g of [first, second, untouched]) {
      const res = await scim(tenant, `/Groups/${g.id}`);
      etags.set(g.id, res.headers.get("ETag") ?? "");
      expect((await scim(tenant, `/Groups/${g.id}`, { headers: { "If-None-Match": etags.get(g.id) ?? "" } })).status).toBe(304);
    }

    expect((await scim(tenant, `/Users/${leaver}`, { method: "DELETE" })).status).toBe(204);

    for (const g of [first, second]) {
      const res = await scim(tenant, `/Groups/${g.id}`, { headers: { "If-None-Match": etags.get(g.id) ?? "" } });
      const body = await bodyOf<GroupJson>(res);
      expect(res.status, `group ${g.displayName} lost a member: ${JSON.stringify(body)}`).toBe(200);
      expect(res.headers.get("ETag")).not.toBe(etags.get(g.id));
      expect((body.members ?? []).map((m) => m.value)).not.toContain(leaver);
      expect(Date.parse(body.meta.lastModified)).toBeGreaterThanOrEqual(Date.parse(g.meta.lastModified));
    }
    const same = await scim(tenant, `/Groups/${untouched.id}`, { headers: { "If-None-Match": etags.get(untouched.id) ?? "" } });
    expect(same.status, "a group the user was not in keeps its version").toBe(304);
  });

  it("writes group.members_changed with removed: [userId] for each group, and user.deleted says how many groups it left", async () => {
    const tenant = await createTenant();
    const [leaver, stayer] = [await newUser(tenant), await newUser(tenant)];
    const groups = [await newGroup(tenant, [leaver, stayer]), await newGroup(tenant, [leaver]), await newGroup(tenant, [stayer])];
    const before = (await feed(tenant)).length;

    expect((await scim(tenant, `/Users/${leaver}`, { method: "DELETE" })).status).toBe(204);

    const events = (await feed(tenant)).slice(before);
    expect(events.find((e) => e.type === "user.deleted")).toMatchObject({ resourceId: leaver, data: { groupsLeft: 2 } });
    const changed = events.filter((e) => e.type === "group.members_changed");
    expect(changed.map((e) => e.resourceId).sort()).toEqual([groups[0]?.id, groups[1]?.id].sort());
    for (const e of changed) expect(e.data).toEqual({ replacedAll: false, added: [], removed: [leaver] });
  });

  it(`bounds the events for a user in many groups: every version moves, at most ${DELETED_USER_GROUP_EVENTS} events`, async () => {
    const tenant = await createTenant();
    const groupCount = DELETED_USER_GROUP_EVENTS + 5;
    const seeded = await seedUsers(env, tenant.id, { users: 1, groups: groupCount });
    const userId = seeded.userId(1);
    const db = await shardOf(tenant.id);
    // The seed puts user 1 into group 1 only; make it a member of every group.
    await db.batch([
      db.prepare(
        "INSERT OR IGNORE INTO group_members (tenant_id, group_id, member_id, member_type) SELECT tenant_id, id, ?, 'User' FROM groups WHERE tenant_id = ?",
      ).bind(userId, tenant.id),
      db.prepare("UPDATE groups SET member_count = 1 WHERE tenant_id = ?").bind(tenant.id),
    ]);

    expect((await scim(tenant, `/Users/${userId}`, { method: "DELETE" })).status).toBe(204);

    const versions = await db.prepare("SELECT min(version) AS low, max(version) AS high, sum(member_count) AS members FROM groups WHERE tenant_id = ?")
      .bind(tenant.id)
      .first<{ low: number; high: number; members: number }>();
    expect(versions).toEqual({ low: 2, high: 2, members: 0 });
    const counted = await db.prepare("SELECT type, count(*) AS n FROM events WHERE tenant_id = ? GROUP BY type ORDER BY type")
      .bind(tenant.id)
      .all<{ type: string; n: number }>();
    expect(counted.results).toEqual([
      { type: "group.members_changed", n: DELETED_USER_GROUP_EVENTS },
      { type: "user.deleted", n: 1 },
    ]);
    const deleted = await db.prepare("SELECT data FROM events WHERE tenant_id = ? AND type = 'user.deleted'").bind(tenant.id).first<{ data: string }>();
    expect(JSON.parse(deleted?.data ?? "null")).toEqual({ groupsLeft: groupCount });
  });

});

const PAUSED = "pausedForTest";

/**
 * Pauses the tenant's Durable Object right after its next D1 batch (a group PATCH's read) until
 * `proceed()`, so a test can run a Worker-side write exactly between that read and its write.
 */
async function pauseAfterNextBatch(tenantId: string): Promise<{ paused: () => Promise<boolean>; proceed: () => void }> {
  const stub = env.TENANT_COORDINATOR.getByName(tenantId);
  let proceed = (): void => undefined;
  const gate = new Promise<void>((resolve) => (proceed = resolve));
  const shard = await shardNameOf(tenantId);
  const original = await runInDurableObject(stub, (instance: TenantCoordinator) => {
    const own = Reflect.get(instance, "env") as Cloudflare.Env;
    let first = true;
    const db = new Proxy(shardBinding(shard, own), {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (property !== "batch") return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements);
          if (first) {
            first = false;
            Reflect.set(instance, PAUSED, true);
            await gate;
          }
          return results;
        };
      },
    });
    Reflect.set(instance, "env", { ...own, [shard]: db });
    return own;
  });
  onTestFinished(async () => {
    proceed();
    await runInDurableObject(stub, (instance: TenantCoordinator) => {
      Reflect.set(instance, "env", original);
    });
  });
  // Asked through runInDurableObject: a promise resolved inside the object would resume the
  // test in the object's I/O context, where the test's own fetches are not allowed.
  const paused = () => runInDurableObject(stub, (instance: TenantCoordinator) => Reflect.get(instance, PAUSED) === true);
  return { paused, proceed };
}

describe("a group PATCH racing the deletion of one of its members", () => {
  it("re-reads and applies when the deletion bumped the group's version between its read and its write (204, both changes kept)", async () => {
    const tenant = await createTenant();
    const [leaver, stayer] = [await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, [leaver, stayer]);
    const { paused, proceed } = await pauseAfterNextBatch(tenant.id);

    // Okta's rename PATCH touches the document: the Durable Object reads the group, then writes.
    const renaming = scim(tenant, `/Groups/${group.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { id: group.id, displayName: "Renamed" } }] },
    });
    await expect.poll(paused).toBe(true);
    expect((await scim(tenant, `/Users/${leaver}`, { method: "DELETE" })).status).toBe(204);
    proceed();
    const renamed = await renaming;
    expect(renamed.status, await renamed.text()).toBe(204);

    const body = await bodyOf<GroupJson>(await scim(tenant, `/Groups/${group.id}`));
    expect(body.displayName).toBe("Renamed");
    expect((body.members ?? []).map((m) => m.value)).toEqual([stayer]);
  });
});
