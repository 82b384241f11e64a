/**
 * Members-only PATCHes waiting in the tenant's Durable Object queue together are applied as
 * one D1 batch, in order (tenant-coordinator.ts). The queue is held busy (support/coordinator)
 * so that the requests line up deterministically, as they do behind a slow D1 write.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { holdQueue, recordCoordinator } from "./support/coordinator";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { GroupJson } from "./support/scim-json";
import { seedUsers } from "./support/seed";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

async function newUsers(tenant: TestTenant, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `c${i}-${crypto.randomUUID()}@example.com` } });
    ids.push((await bodyOf<{ id: string }>(res)).id);
  }
  return ids;
}

async function newGroup(tenant: TestTenant, displayName: string): Promise<GroupJson> {
  const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName, members: [] } });
  expect(res.status).toBe(201);
  return bodyOf<GroupJson>(res);
}

function patch(tenant: TestTenant, groupId: string, Operations: unknown[]): Promise<Response> {
  return scim(tenant, `/Groups/${groupId}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations } });
}

const add = (id: string) => [{ op: "Add", path: "members", value: [{ $ref: null, value: id }] }];

async function memberIds(tenant: TestTenant, groupId: string): Promise<string[]> {
  return ((await bodyOf<GroupJson>(await scim(tenant, `/Groups/${groupId}`))).members ?? []).map((m) => m.value).sort();
}

async function eventsOf(tenant: TestTenant): Promise<{ type: string; resourceId: string; data: unknown }[]> {
  const body = await (await admin(`/tenants/${tenant.id}/events`)).json<{ events: { type: string; resourceId: string; data: unknown }[] }>();
  return body.events.filter((e) => e.type.startsWith("group."));
}

/** Waits until `n` members-only PATCHes are gathered behind the held queue. */
async function gathered(held: { gathered(): Promise<number> }, n: number): Promise<void> {
  await expect.poll(() => held.gathered()).toBe(n);
}

describe("coalescing members-only PATCHes in the Durable Object", () => {
  it("applies 20 queued Entra adds to two groups in ONE D1 round trip, each answered 204", async () => {
    const tenant = await createTenant();
    const users = await newUsers(tenant, 20);
    const [a, b] = [await newGroup(tenant, "Coalesced A"), await newGroup(tenant, "Coalesced B")];
    const coordinator = await recordCoordinator(tenant.id);
    const held = await holdQueue(tenant.id);
    const sent = users.map((user, i) => patch(tenant, i % 2 === 0 ? a.id : b.id, add(user)));
    await gathered(held, 20);
    coordinator.reset();
    held.release();
    const statuses = await Promise.all(sent.map(async (r) => (await r).status));

    expect(statuses).toEqual(users.map(() => 204));
    expect(coordinator.roundTrips.length, "one batch for all twenty").toBe(1);
    expect(await memberIds(tenant, a.id)).toEqual(users.filter((_, i) => i % 2 === 0).sort());
    expect(await memberIds(tenant, b.id)).toEqual(users.filter((_, i) => i % 2 === 1).sort());
    const changes = (await eventsOf(tenant)).filter((e) => e.type === "group.members_changed");
    // One event each (in the order the requests reached the Durable Object, not the order sent).
    expect(changes.map((e) => (e.data as { added: string[] }).added[0]).sort()).toEqual([...users].sort());
    const versions = await Promise.all([a, b].map(async (g) => (await bodyOf<GroupJson>(await scim(tenant, `/Groups/${g.id}`))).meta.version));
    expect(versions).toEqual(['W/"11"', 'W/"11"']);
  });

  it("logs one row per coalesced PATCH inside that same batch", async () => {
    const tenant = await createTenant();
    const users = await newUsers(tenant, 6);
    const group = await newGroup(tenant, "Coalesced log");
    const coordinator = await recordCoordinator(tenant.id);
    const held = await holdQueue(tenant.id);
    const sent = users.map((user) => patch(tenant, group.id, add(user)));
    await gathered(held, 6);
    coordinator.reset();
    held.release();
    expect(await Promise.all(sent.map(async (r) => (await r).status))).toEqual(users.map(() => 204));

    expect(coordinator.roundTrips.length, "one batch for all six").toBe(1);
    const logInserts = coordinator.roundTrips[0]?.statements.filter((s) => /^insert into "request_log"/i.test(s.sql)) ?? [];
    expect(logInserts).toHaveLength(6);
    // The rows are committed with the batch, not after the responses: no poll needed.
    const log = await (await admin(`/tenants/${tenant.id}/log`)).json<{ entries: { method: string; path: string; status: number }[] }>();
    const patches = log.entries.filter((e) => e.method === "PATCH");
    expect(patches.map((e) => [e.status, e.path])).toEqual(users.map(() => [204, `/scim/v2/${tenant.id}/Groups/${group.id}`]));
  });

  it("answers each PATCH of a failed batch on its own: an unknown member fails alone, its neighbours apply", async () => {
    const tenant = await createTenant();
    const [first, last] = await newUsers(tenant, 2);
    const group = await newGroup(tenant, "Neighbours");
    const coordinator = await recordCoordinator(tenant.id);
    const held = await holdQueue(tenant.id);
    const unknown = crypto.randomUUID();
    const sent = [patch(tenant, group.id, add(first as string)), patch(tenant, group.id, add(unknown)), patch(tenant, group.id, add(last as string))];
    await gathered(held, 3);
    coordinator.reset();
    held.release();
    const [ok1, bad, ok2] = await Promise.all(sent);

    expect(ok1?.status).toBe(204);
    expect(ok2?.status).toBe(204);
    const error = await expectScimError(bad as Response, 400, "invalidValue");
    expect(error.detail).toContain(unknown);
    expect(await memberIds(tenant, group.id)).toEqual([first, last].sort());
    // The shared batch failed first, writing nothing; then each ran alone, in the order the
    // requests reached the Durable Object (the refused one also looks up which member is unknown).
    const trips = coordinator.roundTrips.map((t) => (t.failed ? "failed" : "ok"));
    expect(trips[0], trips.join()).toBe("failed");
    expect([...trips].sort(), trips.join()).toEqual(["failed", "failed", "ok", "ok", "ok"]);
  });

  it("answers each PATCH of a batch with the group as its own write left it, and a stale If-Match with 412 alone", async () => {
    const tenant = await createTenant();
    const [u1, u2, u3, u4] = await newUsers(tenant, 4);
    const group = await newGroup(tenant, "Bodies");
    const coordinator = await recordCoordinator(tenant.id);
    const held = await holdQueue(tenant.id);
    const withQuery = (query: string, user: string, headers: Record<string, string> = {}) =>
      scim(tenant, `/Groups/${group.id}${query}`, { method: "PATCH", headers, json: { schemas: [PATCH_OP], Operations: add(user) } });
    const plain = withQuery("", u1 as string);
    await gathered(held, 1);
    const withMembers = withQuery("?attributes=members,meta", u2 as string);
    await gathered(held, 2);
    const withoutMembers = withQuery("?excludedAttributes=members", u3 as string);
    await gathered(held, 3);
    coordinator.reset();
    held.release();

    expect((await plain).status).toBe(204);
    const second = await bodyOf<GroupJson>(await withMembers);
    expect((second.members ?? []).map((m) => m.value).sort()).toEqual([u1, u2].sort());
    expect(second.meta.version).toBe('W/"3"');
    const third = await bodyOf<GroupJson>(await withoutMembers);
    expect(third).not.toHaveProperty("members");
    expect(third.meta.version).toBe('W/"4"');
    expect(coordinator.roundTrips.length, "one batch for the three").toBe(1);

    // A stale If-Match fails the shared batch; alone it gets 412 and its neighbour applies.
    const held2 = await holdQueue(tenant.id);
    const stale = withQuery("", u4 as string, { "If-Match": 'W/"1"' });
    await gathered(held2, 1);
    const fresh = patch(tenant, group.id, [{ op: "remove", path: `members[value eq "${u1}"]` }]);
    await gathered(held2, 2);
    held2.release();
    await expectScimError(await stale, 412);
    expect((await fresh).status).toBe(204);
    expect(await memberIds(tenant, group.id)).toEqual([u2, u3].sort());
  });

  it("never lets a members-only PATCH overtake a write queued before it", async () => {
    const tenant = await createTenant();
    const [u1, u2] = await newUsers(tenant, 2);
    const group = await newGroup(tenant, "Ordered");
    const held = await holdQueue(tenant.id);
    const first = patch(tenant, group.id, add(u1 as string));
    await gathered(held, 1);
    // A rename is not members-only: it queues on its own, and closes the gathering batch.
    const rename = patch(tenant, group.id, [{ op: "replace", path: "displayName", value: "Ordered, renamed" }]);
    await expect.poll(() => held.gathered()).toBe(0);
    const last = patch(tenant, group.id, [{ op: "remove", path: `members[value eq "${u1}"]` }, ...add(u2 as string)]);
    await gathered(held, 1);
    held.release();
    expect((await Promise.all([first, rename, last])).map((r) => r.status)).toEqual([204, 204, 204]);

    const events = (await eventsOf(tenant)).filter((e) => e.resourceId === group.id).map((e) => e.type);
    expect(events).toEqual(["group.created", "group.members_changed", "group.updated", "group.members_changed"]);
    expect(await memberIds(tenant, group.id)).toEqual([u2]);
  });
});

describe("the size of a coalesced batch", () => {
  it("starts a new batch when the members named would pass 200, and applies both", async () => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: 250 });
    const group = await newGroup(tenant, "Budget");
    const held = await holdQueue(tenant.id);
    const ids = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => ({ value: seeded.userId(first + i) }));
    const big = patch(tenant, group.id, [{ op: "add", path: "members", value: ids(1, 150) }]);
    await gathered(held, 1);
    const fits = patch(tenant, group.id, [{ op: "add", path: "members", value: ids(151, 200) }]);
    await gathered(held, 2);
    const over = patch(tenant, group.id, [{ op: "add", path: "members", value: ids(201, 250) }]);
    // 150 + 50 = 200 fit one batch; the next 50 open a second one, gathering alone.
    await gathered(held, 1);
    held.release();
    expect((await Promise.all([big, fits, over])).map((r) => r.status)).toEqual([204, 204, 204]);
    expect((await memberIds(tenant, group.id)).length).toBe(250);
  });
});

describe("the held queue used above", () => {
  it("holds writes until released (so the tests above line requests up for real)", async () => {
    const tenant = await createTenant();
    const [user] = await newUsers(tenant, 1);
    const group = await newGroup(tenant, "Held");
    const held = await holdQueue(tenant.id);
    const sent = patch(tenant, group.id, add(user as string));
    await gathered(held, 1);
    const row = await (await shardOf(tenant.id)).prepare("SELECT member_count AS n FROM groups WHERE tenant_id = ? AND id = ?").bind(tenant.id, group.id).first<{ n: number }>();
    expect(row?.n, "nothing applied while held").toBe(0);
    held.release();
    expect((await sent).status).toBe(204);
    expect(await memberIds(tenant, group.id)).toEqual([user]);
  });
});
