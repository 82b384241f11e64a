/**
 * Nested groups (issue 13 item 1; RFC 7643 §4.2, §4.1.2): a group's members may be groups, a
 * membership that would make a cycle or pass the nesting bound is refused with nothing
 * written, deleting a group removes it from its parents, and a user's `groups` lists direct
 * and indirect memberships with their `type`, right after every kind of change.
 */
import { describe, expect, it } from "vitest";
import { database } from "../src/storage/database";
import { MAX_NESTING_DEPTH, readUserGroupIds } from "../src/storage/group-nesting";
import { TenantDb } from "../src/storage/tenant-db";
import { expectScimError } from "./support/expect-scim-error";
import { sha256 } from "./support/hash";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { GroupJson } from "./support/scim-json";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

interface UserGroup {
  value: string;
  display: string;
  type: string;
  $ref: string;
}

interface FeedEvent {
  seq: number;
  type: string;
  resourceId: string;
  data: Record<string, unknown> | null;
}

async function newUser(tenant: TestTenant, name = `u-${crypto.randomUUID().slice(0, 8)}`): Promise<string> {
  const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `${name}@example.com` } });
  const body = await bodyOf<{ id: string }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.id;
}

/** A group whose members are given as ids; `type` is sent only when asked (clients often omit it). */
async function newGroup(tenant: TestTenant, displayName: string, members: { value: string; type?: string }[] = []): Promise<GroupJson> {
  const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName, members } });
  const body = await bodyOf<GroupJson>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

function patch(tenant: TestTenant, groupId: string, Operations: unknown[]) {
  return scim(tenant, `/Groups/${groupId}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations } });
}

const addMembers = (tenant: TestTenant, groupId: string, ...ids: string[]) =>
  patch(tenant, groupId, [{ op: "add", path: "members", value: ids.map((value) => ({ value })) }]);

/** The user's `groups` as "display:type", sorted: what an IdP or the app reads. */
async function groupsOf(tenant: TestTenant, userId: string): Promise<string[]> {
  const res = await scim(tenant, `/Users/${userId}`);
  const body = await bodyOf<{ groups?: UserGroup[] }>(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  for (const g of body.groups ?? []) expect(g.$ref, JSON.stringify(g)).toBe(`${tenant.baseUrl}/Groups/${g.value}`);
  return (body.groups ?? []).map((g) => `${g.display}:${g.type}`).sort();
}

async function groupRow(tenantId: string, id: string): Promise<{ version: number; member_count: number } | null> {
  return (await shardOf(tenantId)).prepare("SELECT version, member_count FROM groups WHERE tenant_id = ? AND id = ?").bind(tenantId, id).first();
}

async function feed(tenant: TestTenant): Promise<FeedEvent[]> {
  const res = await admin(`/tenants/${tenant.id}/events?limit=1000`);
  const body = await bodyOf<{ events: FeedEvent[] }>(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.events;
}

async function listIds(tenant: TestTenant, resource: "Users" | "Groups", filter: string): Promise<string[]> {
  const res = await scim(tenant, `/${resource}?filter=${encodeURIComponent(filter)}&count=1000`);
  const body = await bodyOf<{ Resources?: { id: string }[] }>(res);
  expect(res.status, `${filter}: ${JSON.stringify(body)}`).toBe(200);
  return (body.Resources ?? []).map((r) => r.id).sort();
}

/** A chain top ⊃ … ⊃ bottom of `levels` groups named L1 (top) … Ln, built over HTTP; returns their ids top first. */
async function chain(tenant: TestTenant, levels: number, bottomMembers: string[] = []): Promise<string[]> {
  const ids: string[] = [];
  let below = bottomMembers.map((value) => ({ value }));
  for (let level = levels; level >= 1; level--) {
    const group = await newGroup(tenant, `L${level}`, below);
    ids.unshift(group.id);
    below = [{ value: group.id }];
  }
  return ids;
}

describe("a group as a member", () => {
  it("is stored with type Group, its displayName as display and a $ref to /Groups/{id}, whether or not the client sent type", async () => {
    const tenant = await createTenant();
    const alice = await newUser(tenant, "alice");
    const inner = await newGroup(tenant, "Inner", [{ value: alice }]);
    const typed = await newGroup(tenant, "Typed", [{ value: inner.id, type: "Group" }]);
    const untyped = await newGroup(tenant, "Untyped", [{ value: inner.id }, { value: alice }]);
    const expectedInner = { value: inner.id, display: "Inner", type: "Group", $ref: `${tenant.baseUrl}/Groups/${inner.id}` };
    expect(typed.members).toEqual([expectedInner]);
    const read = await bodyOf<GroupJson>(await scim(tenant, `/Groups/${untyped.id}`));
    const sorted = [...(read.members ?? [])].sort((a, b) => (a.type ?? "").localeCompare(b.type ?? ""));
    expect(sorted).toEqual([expectedInner, { value: alice, display: "alice@example.com", type: "User", $ref: `${tenant.baseUrl}/Users/${alice}` }]);
    // The list page's shared member statement shows the same.
    const listed = await bodyOf<{ Resources: GroupJson[] }>(await scim(tenant, `/Groups?filter=${encodeURIComponent('displayName eq "Typed"')}`));
    expect(listed.Resources[0]?.members).toEqual([expectedInner]);
  });

  it("refuses another tenant's group with 400 invalidValue naming it, writing nothing, and accepts this tenant's", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const foreign = await newGroup(other, "Foreign");
    const own = await newGroup(tenant, "Own");
    const group = await newGroup(tenant, "Mine");
    const body = await expectScimError(await addMembers(tenant, group.id, own.id, foreign.id), 400, "invalidValue");
    expect(body.detail).toContain(foreign.id);
    expect(await groupRow(tenant.id, group.id)).toEqual({ version: 1, member_count: 0 });
    expect((await addMembers(tenant, group.id, own.id)).status).toBe(204);
    expect(await groupRow(tenant.id, group.id)).toEqual({ version: 2, member_count: 1 });
  });
});

describe("cycles", () => {
  it("refuses a group as its own member, a direct cycle and a longer one with 400 invalidValue, writing nothing", async () => {
    const tenant = await createTenant();
    const [top, middle, bottom] = await chain(tenant, 3);
    if (!top || !middle || !bottom) throw new Error("chain");
    const before = await feed(tenant);
    const versions = await Promise.all([top, middle, bottom].map((id) => groupRow(tenant.id, id)));

    await expectScimError(await addMembers(tenant, top, top), 400, "invalidValue");
    await expectScimError(await addMembers(tenant, middle, top), 400, "invalidValue");
    await expectScimError(await addMembers(tenant, bottom, top), 400, "invalidValue");
    // A PUT that replaces the members, and a PATCH whose other operations are fine.
    const put = await scim(tenant, `/Groups/${bottom}`, { method: "PUT", json: { schemas: [GROUP], displayName: "L3", members: [{ value: middle }] } });
    await expectScimError(put, 400, "invalidValue");
    const mixed = await patch(tenant, bottom, [
      { op: "replace", value: { displayName: "Renamed" } },
      { op: "add", path: "members", value: [{ value: top, type: "Group" }] },
    ]);
    const body = await expectScimError(mixed, 400, "invalidValue");
    expect(body.detail).toMatch(/member of itself or of a group it contains/);

    expect(await Promise.all([top, middle, bottom].map((id) => groupRow(tenant.id, id)))).toEqual(versions);
    expect(await feed(tenant)).toEqual(before);
    const bottomRead = await bodyOf<GroupJson>(await scim(tenant, `/Groups/${bottom}`));
    expect(bottomRead.displayName).toBe("L3");
    expect(bottomRead.members ?? []).toEqual([]);
  });

  it(`allows ${MAX_NESTING_DEPTH} levels of groups and refuses a membership that would make ${MAX_NESTING_DEPTH + 1}`, async () => {
    const tenant = await createTenant();
    const user = await newUser(tenant);
    const levels = await chain(tenant, MAX_NESTING_DEPTH, [user]);
    expect(await groupsOf(tenant, user)).toHaveLength(MAX_NESTING_DEPTH);
    const above = await newGroup(tenant, "Above");
    const body = await expectScimError(await addMembers(tenant, above.id, levels[0] ?? ""), 400, "invalidValue");
    expect(body.detail).toContain(`at most ${MAX_NESTING_DEPTH} levels`);
    // Below the bottom too: a group under the deepest level.
    const below = await newGroup(tenant, "Below");
    await expectScimError(await addMembers(tenant, levels.at(-1) ?? "", below.id), 400, "invalidValue");
    expect(await groupRow(tenant.id, above.id)).toEqual({ version: 1, member_count: 0 });
  });
});

describe("a user's direct and indirect groups in a 4-level nesting", () => {
  it("are right after an add, a remove, a PUT replace, a group delete and a user delete", async () => {
    const tenant = await createTenant();
    const [ada, bob] = [await newUser(tenant, "ada"), await newUser(tenant, "bob")];
    // L1 ⊃ L2 ⊃ L3 ⊃ L4 ⊃ ada; bob is in L3 directly.
    const [l1, l2, l3, l4] = await chain(tenant, 4, [ada]);
    if (!l1 || !l2 || !l3 || !l4) throw new Error("chain");
    expect((await addMembers(tenant, l3, bob)).status).toBe(204);
    expect(await groupsOf(tenant, ada)).toEqual(["L1:indirect", "L2:indirect", "L3:indirect", "L4:direct"]);
    expect(await groupsOf(tenant, bob)).toEqual(["L1:indirect", "L2:indirect", "L3:direct"]);

    // add: ada joins L2 directly; direct wins over indirect.
    expect((await addMembers(tenant, l2, ada)).status).toBe(204);
    expect(await groupsOf(tenant, ada)).toEqual(["L1:indirect", "L2:direct", "L3:indirect", "L4:direct"]);

    // remove: L3 leaves L2 (Okta's filter form); L1 still reaches ada through L2, not bob.
    expect((await patch(tenant, l2, [{ op: "remove", path: `members[value eq "${l3}"]` }])).status).toBe(204);
    expect(await groupsOf(tenant, ada)).toEqual(["L2:direct", "L3:indirect", "L4:direct", "L1:indirect"].sort());
    expect(await groupsOf(tenant, bob)).toEqual(["L3:direct"]);

    // PUT replace: L2's members become L3 only (ada's direct membership in L2 ends).
    const put = await scim(tenant, `/Groups/${l2}`, { method: "PUT", json: { schemas: [GROUP], displayName: "L2", members: [{ value: l3 }] } });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(await groupsOf(tenant, ada)).toEqual(["L1:indirect", "L2:indirect", "L3:indirect", "L4:direct"]);
    expect(await groupsOf(tenant, bob)).toEqual(["L1:indirect", "L2:indirect", "L3:direct"]);

    // group delete: L3 goes; its parent L2 changed (version, member count, event), its members lose it.
    const l2Before = await groupRow(tenant.id, l2);
    const seqBefore = (await feed(tenant)).at(-1)?.seq ?? 0;
    expect((await scim(tenant, `/Groups/${l3}`, { method: "DELETE" })).status).toBe(204);
    expect(await groupsOf(tenant, ada)).toEqual(["L4:direct"]);
    expect(await groupsOf(tenant, bob)).toEqual([]);
    expect(await groupRow(tenant.id, l2)).toEqual({ version: (l2Before?.version ?? 0) + 1, member_count: 0 });
    const deletion = (await feed(tenant)).filter((e) => e.seq > seqBefore).map((e) => ({ type: e.type, resourceId: e.resourceId, data: e.data }));
    expect(deletion).toEqual([
      { type: "group.members_changed", resourceId: l2, data: { replacedAll: false, added: [], removed: [l3] } },
      { type: "group.deleted", resourceId: l3, data: null },
    ]);
    const l2Read = await bodyOf<GroupJson>(await scim(tenant, `/Groups/${l2}`));
    expect(l2Read.members ?? []).toEqual([]);

    // Rebuild L2 ⊃ L4 and delete ada: L4 changed; bob, now in L4, keeps L4 and L2 through it.
    expect((await addMembers(tenant, l2, l4)).status).toBe(204);
    expect((await addMembers(tenant, l4, bob)).status).toBe(204);
    expect(await groupsOf(tenant, bob)).toEqual(["L1:indirect", "L2:indirect", "L4:direct"]);
    const l4Before = await groupRow(tenant.id, l4);
    expect((await scim(tenant, `/Users/${ada}`, { method: "DELETE" })).status).toBe(204);
    expect(await groupRow(tenant.id, l4)).toEqual({ version: (l4Before?.version ?? 0) + 1, member_count: 1 });
    expect(await groupsOf(tenant, bob)).toEqual(["L1:indirect", "L2:indirect", "L4:direct"]);
    expect(await listIds(tenant, "Groups", `members[value eq "${ada}"]`)).toEqual([]);
  });

  it("writes group.members_changed on every group a changed group is nested in, naming it as `via`", async () => {
    const tenant = await createTenant();
    const ada = await newUser(tenant, "ada");
    const [l1, l2, l3] = await chain(tenant, 3);
    const outsider = await newGroup(tenant, "Outsider");
    const seen = (await feed(tenant)).length;
    expect((await addMembers(tenant, l3 ?? "", ada)).status).toBe(204);
    const changes = (await feed(tenant)).slice(seen).filter((e) => e.type === "group.members_changed");
    const byGroup = new Map(changes.map((e) => [e.resourceId, e.data]));
    const own = { replacedAll: false, added: [ada], removed: [] };
    expect(byGroup.get(l3 ?? "")).toEqual(own);
    expect(byGroup.get(l2 ?? "")).toEqual({ via: l3, change: own });
    expect(byGroup.get(l1 ?? "")).toEqual({ via: l3, change: own });
    expect(byGroup.has(outsider.id)).toBe(false);
    expect(changes).toHaveLength(3);
    // A PATCH that changes nothing writes no event, on the group or above it.
    const again = (await feed(tenant)).length;
    expect((await addMembers(tenant, l3 ?? "", ada)).status).toBe(204);
    expect((await feed(tenant)).slice(again).filter((e) => e.type === "group.members_changed")).toEqual([]);
  });

  it("exposes the same direct and indirect group ids to storage callers in one read (for effective roles)", async () => {
    const tenant = await createTenant();
    const ada = await newUser(tenant, "ada");
    const [l1, l2, l3, l4] = await chain(tenant, 4, [ada]);
    const tdb = new TenantDb(database(await shardOf(tenant.id)), tenant.id, await sha256(tenant.token), tenant.shard);
    expect(await readUserGroupIds(tdb, ada)).toEqual([
      { id: l4, type: "direct" },
      ...[l1, l2, l3].sort().map((id) => ({ id, type: "indirect" })),
    ]);
  });
});

describe("filters on nesting", () => {
  it('finds groups with group members by members[type eq "Group"], and users by groups[type eq "indirect"] or "direct"', async () => {
    const tenant = await createTenant();
    const [ada, bob, cy] = [await newUser(tenant, "ada"), await newUser(tenant, "bob"), await newUser(tenant, "cy")];
    const inner = await newGroup(tenant, "Inner", [{ value: ada }]);
    const outer = await newGroup(tenant, "Outer", [{ value: inner.id }, { value: bob }]);
    const flat = await newGroup(tenant, "Flat", [{ value: bob }]);
    await newGroup(tenant, "Empty");

    expect(await listIds(tenant, "Groups", 'members[type eq "Group"]')).toEqual([outer.id]);
    expect(await listIds(tenant, "Groups", 'members[type eq "group"]')).toEqual([outer.id]);
    expect(await listIds(tenant, "Groups", 'members[type eq "User"]')).toEqual([inner.id, outer.id, flat.id].sort());
    expect(await listIds(tenant, "Groups", `members[value eq "${inner.id}" and type eq "Group"]`)).toEqual([outer.id]);
    expect(await listIds(tenant, "Groups", `members[value eq "${bob}" and type eq "Group"]`)).toEqual([]);

    expect(await listIds(tenant, "Users", 'groups[type eq "indirect"]')).toEqual([ada]);
    expect(await listIds(tenant, "Users", 'groups[type eq "direct"]')).toEqual([ada, bob].sort());
    expect(await listIds(tenant, "Users", 'not (groups[type eq "direct"])')).toEqual([cy]);
    // One group satisfies the whole element filter: ada is in Outer only indirectly.
    expect(await listIds(tenant, "Users", `groups[value eq "${outer.id}" and type eq "direct"]`)).toEqual([bob]);
    expect(await listIds(tenant, "Users", `groups[value eq "${outer.id}" and type eq "indirect"]`)).toEqual([ada]);
    expect(await listIds(tenant, "Users", `groups.value eq "${outer.id}"`)).toEqual([ada, bob].sort());
    await expectScimError(await scim(tenant, `/Users?filter=${encodeURIComponent('groups[display eq "Outer"]')}`), 400, "invalidFilter");
  });
});
