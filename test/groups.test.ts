/** /Groups: RFC 7644 behaviours, membership through the tenant's Durable Object (issue: groups). */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { GroupJson } from "./support/scim-json";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

async function newUser(tenant: TestTenant, userName = `u-${crypto.randomUUID()}@example.com`): Promise<string> {
  const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName, displayName: userName.split("@")[0] } });
  const body = await bodyOf<{ id: string }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.id;
}

async function newGroup(tenant: TestTenant, displayName = `g-${crypto.randomUUID()}`, members: string[] = []): Promise<GroupJson> {
  const res = await scim(tenant, "/Groups", {
    method: "POST",
    json: { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) },
  });
  const body = await bodyOf<GroupJson>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function memberIds(tenant: TestTenant, groupId: string): Promise<string[]> {
  const body = await bodyOf<GroupJson>(await scim(tenant, `/Groups/${groupId}`));
  return (body.members ?? []).map((m) => m.value).sort();
}

function patch(tenant: TestTenant, groupId: string, Operations: unknown[], query = "") {
  return scim(tenant, `/Groups/${groupId}${query}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations } });
}

async function storedMemberCount(tenantId: string, groupId: string): Promise<number> {
  const row = await (await shardOf(tenantId)).prepare("SELECT member_count AS n FROM groups WHERE tenant_id = ? AND id = ?").bind(tenantId, groupId).first<{ n: number }>();
  return row?.n ?? -1;
}

describe("POST /Groups", () => {
  it("creates a group with members: 201, Location, members with display and $ref", async () => {
    const tenant = await createTenant();
    const alice = await newUser(tenant, "alice@example.com");
    const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Engineering", members: [{ value: alice }] } });
    const body = await bodyOf<GroupJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(res.headers.get("Location")).toBe(`${tenant.baseUrl}/Groups/${body.id}`);
    expect(body.members).toEqual([{ value: alice, display: "alice", type: "User", $ref: `${tenant.baseUrl}/Users/${alice}` }]);
    expect(await storedMemberCount(tenant.id, body.id)).toBe(1);
  });

  it("gives groups the IdP creates the tenant's default role and domain restrictions", async () => {
    const tenant = await createTenant({ defaultRole: "viewer", domainRestrictions: ["example.com"] });
    const group = await newGroup(tenant);
    const row = await (await shardOf(tenant.id)).prepare("SELECT role, domains FROM groups WHERE tenant_id = ? AND id = ?").bind(tenant.id, group.id).first<{ role: string; domains: string }>();
    expect(row).toEqual({ role: "viewer", domains: '["example.com"]' });
  });

  it("answers 409 uniqueness to a displayName differing only in case", async () => {
    const tenant = await createTenant();
    await newGroup(tenant, "Sales");
    await expectScimError(await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "sALES" } }), 409, "uniqueness");
  });

  it.each([
    ["missing displayName", { schemas: [GROUP] }, "invalidValue"],
    ["a member without value", { schemas: [GROUP], displayName: "x", members: [{ display: "nobody" }] }, "invalidValue"],
    ["a malformed member entry", { schemas: [GROUP], displayName: "x", members: ["just-a-string"] }, "invalidValue"],
  ])("answers 400 to %s and creates nothing", async (_label, json, scimType) => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/Groups", { method: "POST", json }), 400, scimType);
    const count = await (await shardOf(tenant.id)).prepare("SELECT COUNT(*) AS n FROM groups WHERE tenant_id = ?").bind(tenant.id).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("answers 400 invalidValue naming a member that is another tenant's user, and creates nothing", async () => {
    const [tenant, other] = await Promise.all([createTenant(), createTenant()]);
    const foreign = await newUser(other);
    const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "x", members: [{ value: foreign }] } });
    const error = await expectScimError(res, 400, "invalidValue");
    expect(error.detail).toContain(foreign);
    const count = await (await shardOf(tenant.id)).prepare("SELECT COUNT(*) AS n FROM groups WHERE tenant_id = ?").bind(tenant.id).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("answers 403 with a clear detail when group sync is off", async () => {
    const tenant = await createTenant({ groupSync: false });
    const error = await expectScimError(await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "x" } }), 403);
    expect(error.detail).toMatch(/group provisioning/i);
    await expectScimError(await scim(tenant, "/Groups"), 403);
  });
});

describe("GET /Groups", () => {
  it("reads a group without touching members when excludedAttributes=members", async () => {
    const tenant = await createTenant();
    const user = await newUser(tenant);
    const group = await newGroup(tenant, "Readers", [user]);
    const body = await bodyOf<GroupJson>(await scim(tenant, `/Groups/${group.id}?excludedAttributes=members`));
    expect(body.members).toBeUndefined();
    expect(body.displayName).toBe("Readers");
  });

  it("filters by displayName (any case), externalId, and Entra's membership check", async () => {
    const tenant = await createTenant();
    const [a, b] = [await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Filterable", [a]);
    const find = async (filter: string) =>
      bodyOf<{ totalResults: number; Resources: GroupJson[] }>(await scim(tenant, `/Groups?excludedAttributes=members&filter=${encodeURIComponent(filter)}`));
    expect((await find('displayName eq "filterable"')).totalResults).toBe(1);
    expect((await find(`id eq "${group.id}" and members[value eq "${a}"]`)).totalResults).toBe(1);
    expect((await find(`id eq "${group.id}" and members[value eq "${b}"]`)).totalResults).toBe(0);
    expect((await find(`members.value eq "${a}"`)).Resources.map((g) => g.id)).toEqual([group.id]);
  });

  it("answers 404 to another tenant's group id", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    const group = await newGroup(a);
    await expectScimError(await scim(b, `/Groups/${group.id}`), 404);
    await expectScimError(await patch(b, group.id, [{ op: "replace", path: "displayName", value: "stolen" }]), 404);
    await expectScimError(await scim(b, `/Groups/${group.id}`, { method: "DELETE" }), 404);
    expect((await bodyOf<GroupJson>(await scim(a, `/Groups/${group.id}`))).displayName).toBe(group.displayName);
  });

  // A members-only PATCH skips the read: the group's existence and If-Match are guards of its write.
  it("answers 404 and 412 to members-only PATCHes on another tenant's group, an unknown id or a stale If-Match, applying nothing", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    const [member, intruder] = [await newUser(a), await newUser(b)];
    const group = await newGroup(a, "Guarded", [member]);
    const add = (user: string) => [{ op: "add", path: "members", value: [{ value: user }] }];
    await expectScimError(await patch(b, group.id, add(intruder)), 404);
    await expectScimError(await patch(b, group.id, [{ op: "remove", path: "members", value: [{ value: member }] }]), 404);
    await expectScimError(await patch(a, crypto.randomUUID(), add(member)), 404);
    await expectScimError(await patch(a, "not-a-uuid", add(member)), 404);
    const stale = await scim(a, `/Groups/${group.id}`, {
      method: "PATCH",
      headers: { "If-Match": 'W/"7"' },
      json: { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${member}"]` }] },
    });
    await expectScimError(stale, 412);
    expect(await memberIds(a, group.id)).toEqual([member]);
    expect(await storedMemberCount(a.id, group.id)).toBe(1);
    const current = await scim(a, `/Groups/${group.id}`, {
      method: "PATCH",
      headers: { "If-Match": group.meta.version },
      json: { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${member}"]` }] },
    });
    expect(current.status, await current.text()).toBe(204);
    expect(await memberIds(a, group.id)).toEqual([]);
  });

  it("shows a user's groups on the user", async () => {
    const tenant = await createTenant();
    const user = await newUser(tenant);
    const group = await newGroup(tenant, "Visible", [user]);
    const body = await bodyOf<{ groups: { value: string; display: string }[] }>(await scim(tenant, `/Users/${user}`));
    expect(body.groups).toEqual([{ value: group.id, display: "Visible", type: "direct", $ref: `${tenant.baseUrl}/Groups/${group.id}` }]);
  });
});

describe("PATCH /Groups/{id}", () => {
  it("applies Okta's multi-op request: rename, remove by filter, add — and answers 204", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const [a, b, c] = [await newUser(tenant), await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Before", [a, b]);
    const res = await patch(tenant, group.id, [
      { op: "replace", value: { id: group.id, displayName: "After" } },
      { op: "remove", path: `members[value eq "${a}"]` },
      { op: "add", path: "members", value: [{ value: c, display: "c" }] },
    ]);
    expect(res.status, await res.clone().text()).toBe(204);
    expect(await memberIds(tenant, group.id)).toEqual([b, c].sort());
    expect((await bodyOf<GroupJson>(await scim(tenant, `/Groups/${group.id}`))).displayName).toBe("After");
    expect(await storedMemberCount(tenant.id, group.id)).toBe(2);
  });

  it("returns 200 with the group when the request asks for attributes", async () => {
    const tenant = await createTenant();
    const user = await newUser(tenant);
    const group = await newGroup(tenant);
    const res = await patch(tenant, group.id, [{ op: "add", path: "members", value: [{ value: user }] }], "?attributes=members");
    const body = await bodyOf<GroupJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.members?.map((m) => m.value)).toEqual([user]);
  });

  it("removes only the listed members for Entra's Remove with a value array", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const [a, b, c] = [await newUser(tenant), await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Keep", [a, b, c]);
    const res = await patch(tenant, group.id, [{ op: "Remove", path: "members", value: [{ value: b }] }]);
    expect(res.status).toBe(204);
    expect(await memberIds(tenant, group.id)).toEqual([a, c].sort());
  });

  it("replaces members with a diff", async () => {
    const tenant = await createTenant();
    const [a, b, c] = [await newUser(tenant), await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Replace", [a, b]);
    expect((await patch(tenant, group.id, [{ op: "replace", path: "members", value: [{ value: b }, { value: c }] }])).status).toBe(204);
    expect(await memberIds(tenant, group.id)).toEqual([b, c].sort());
    expect(await storedMemberCount(tenant.id, group.id)).toBe(2);
  });

  it("treats adding a present member and removing an absent one as no-ops", async () => {
    const tenant = await createTenant();
    const [a, b] = [await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Idempotent", [a]);
    expect((await patch(tenant, group.id, [{ op: "add", path: "members", value: [{ value: a, $ref: null }] }])).status).toBe(204);
    expect((await patch(tenant, group.id, [{ op: "remove", path: `members[value eq "${b}"]` }])).status).toBe(204);
    expect(await memberIds(tenant, group.id)).toEqual([a]);
    expect(await storedMemberCount(tenant.id, group.id)).toBe(1);
  });

  it("applies nothing when one added member does not exist, and names it", async () => {
    const tenant = await createTenant();
    const [a, b] = [await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Atomic", [a]);
    const ghost = crypto.randomUUID();
    const res = await patch(tenant, group.id, [
      { op: "replace", path: "displayName", value: "Renamed" },
      { op: "add", path: "members", value: [{ value: b }, { value: ghost }] },
    ]);
    const error = await expectScimError(res, 400, "invalidValue");
    expect(error.detail).toContain(ghost);
    expect(await memberIds(tenant, group.id)).toEqual([a]);
    expect((await bodyOf<GroupJson>(await scim(tenant, `/Groups/${group.id}`))).displayName).toBe("Atomic");
  });

  it.each([
    ["members[value eq]", [{ op: "remove", path: "members[value eq]" }], "invalidPath"],
    ["remove without a path", [{ op: "remove" }], "noTarget"],
    ["an op on id", [{ op: "replace", path: "id", value: "x" }], "mutability"],
    ["removing displayName", [{ op: "remove", path: "displayName" }], "invalidValue"],
  ])("answers 400 to %s", async (_label, ops, scimType) => {
    const tenant = await createTenant();
    const group = await newGroup(tenant, "Bad");
    await expectScimError(await patch(tenant, group.id, ops), 400, scimType);
    expect((await bodyOf<GroupJson>(await scim(tenant, `/Groups/${group.id}`))).displayName).toBe("Bad");
  });

  it("answers 409 when a rename collides with another group in another case", async () => {
    const tenant = await createTenant();
    await newGroup(tenant, "Taken");
    const group = await newGroup(tenant, "Free");
    await expectScimError(await patch(tenant, group.id, [{ op: "replace", path: "displayName", value: "TAKEN" }]), 409, "uniqueness");
  });

  it("loses no update when 50 membership PATCHes hit one group at once", async () => {
    const tenant = await createTenant();
    const group = await newGroup(tenant, "Busy");
    const users = await Promise.all(Array.from({ length: 50 }, () => newUser(tenant)));
    const results = await Promise.all(users.map((id) => patch(tenant, group.id, [{ op: "add", path: "members", value: [{ value: id }] }])));
    expect(results.map((r) => r.status)).toEqual(users.map(() => 204));
    expect(await memberIds(tenant, group.id)).toEqual([...users].sort());
    expect(await storedMemberCount(tenant.id, group.id)).toBe(50);
  });

  it("applies mixed adds and removes in a known order while other users' changes run concurrently", async () => {
    const tenant = await createTenant();
    const users = await Promise.all(Array.from({ length: 10 }, () => newUser(tenant)));
    const group = await newGroup(tenant, "Ordered", users.slice(0, 5));
    const add = (id: string) => ({ op: "add", path: "members", value: [{ value: id }] });
    const remove = (id: string) => ({ op: "remove", path: `members[value eq "${id}"]` });
    // Per user the two changes are sequential (a known order); across users they race.
    const statuses = await Promise.all(
      users.map(async (id, i) => {
        const [first, second] = i % 2 === 0 ? [add(id), remove(id)] : [remove(id), add(id)];
        const a = await patch(tenant, group.id, [first]);
        const b = await patch(tenant, group.id, [second]);
        return [a.status, b.status];
      }),
    );
    expect(statuses.flat().every((s) => s === 204)).toBe(true);
    expect(await memberIds(tenant, group.id)).toEqual(users.filter((_, i) => i % 2 === 1).sort());
    expect(await storedMemberCount(tenant.id, group.id)).toBe(5);
  });
});

describe("PUT and DELETE /Groups/{id}", () => {
  it("replaces the group with its full members list", async () => {
    const tenant = await createTenant();
    const [a, b] = [await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Put", [a]);
    const res = await scim(tenant, `/Groups/${group.id}`, { method: "PUT", json: { schemas: [GROUP], displayName: "Put2", members: [{ value: b }] } });
    const body = await bodyOf<GroupJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.displayName).toBe("Put2");
    expect(body.members?.map((m) => m.value)).toEqual([b]);
  });

  it("deletes a group (204), its memberships go, then 404", async () => {
    const tenant = await createTenant();
    const user = await newUser(tenant);
    const group = await newGroup(tenant, "Doomed", [user]);
    expect((await scim(tenant, `/Groups/${group.id}`, { method: "DELETE" })).status).toBe(204);
    await expectScimError(await scim(tenant, `/Groups/${group.id}`), 404);
    await expectScimError(await scim(tenant, `/Groups/${group.id}`, { method: "DELETE" }), 404);
    const rows = await (await shardOf(tenant.id)).prepare("SELECT COUNT(*) AS n FROM group_members WHERE tenant_id = ? AND group_id = ?").bind(tenant.id, group.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("removes a deleted user from its groups", async () => {
    const tenant = await createTenant();
    const [a, b] = [await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Leavers", [a, b]);
    expect((await scim(tenant, `/Users/${a}`, { method: "DELETE" })).status).toBe(204);
    expect(await memberIds(tenant, group.id)).toEqual([b]);
    expect(await storedMemberCount(tenant.id, group.id)).toBe(1);
  });
});

describe("events for the host app", () => {
  it("records group creation and membership changes in the outbox", async () => {
    const tenant = await createTenant();
    const user = await newUser(tenant);
    const group = await newGroup(tenant, "Evented");
    await patch(tenant, group.id, [{ op: "add", path: "members", value: [{ value: user }] }]);
    const body = await (await admin(`/tenants/${tenant.id}/events`)).json<{ events: { type: string; resourceId: string; data: unknown }[] }>();
    const types = body.events.map((e) => e.type);
    expect(types).toEqual(["user.created", "group.created", "group.members_changed"]);
    expect(body.events[2]?.data).toMatchObject({ added: [user] });
  });

  it("records only real membership changes: a re-sent add or a removal of a non-member bumps no version and writes no event", async () => {
    const tenant = await createTenant();
    const [a, b, c] = [await newUser(tenant), await newUser(tenant), await newUser(tenant)];
    const group = await newGroup(tenant, "Resent", [a]);
    const version = async () => (await bodyOf<GroupJson>(await scim(tenant, `/Groups/${group.id}?excludedAttributes=members`))).meta.version;
    const memberEvents = async () => {
      const body = await (await admin(`/tenants/${tenant.id}/events`)).json<{ events: { type: string; data: unknown }[] }>();
      return body.events.filter((e) => e.type === "group.members_changed").map((e) => e.data);
    };
    const before = await version();

    // Okta's cycle: the unchanged name, a removal of someone who is not a member, a re-add.
    const resent = await patch(tenant, group.id, [
      { op: "replace", value: { id: group.id, displayName: "Resent" } },
      { op: "remove", path: `members[value eq "${b}"]` },
      { op: "add", path: "members", value: [{ value: a }] },
    ]);
    expect(resent.status, await resent.text()).toBe(204);
    expect(await version()).toBe(before);
    expect(await memberEvents()).toEqual([]);

    const mixed = await patch(tenant, group.id, [
      { op: "add", path: "members", value: [{ value: a }, { value: c }] },
      { op: "remove", path: "members", value: [{ value: b }] },
    ]);
    expect(mixed.status, await mixed.text()).toBe(204);
    expect(await version()).not.toBe(before);
    expect(await memberEvents()).toEqual([{ replacedAll: false, added: [c], removed: [] }]);
    expect((await memberIds(tenant, group.id)).sort()).toEqual([a, c].sort());
    expect(await storedMemberCount(tenant.id, group.id)).toBe(2);

    const removal = await patch(tenant, group.id, [{ op: "remove", path: "members", value: [{ value: a }, { value: b }] }]);
    expect(removal.status, await removal.text()).toBe(204);
    expect((await memberEvents())[1]).toEqual({ replacedAll: false, added: [], removed: [a] });
  });
});
