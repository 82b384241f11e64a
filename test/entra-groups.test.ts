/**
 * /Groups as Microsoft Entra ID provisions them: every request replays a "## Microsoft Entra
 * ID" line of /work/shared/IDP-BEHAVIOUR.md (no Accept header, `application/scim+json;
 * charset=utf-8` bodies, capitalised ops by default, `?aadOptscim062020` for the newer
 * dialect). RFC-level group behaviour lives in groups.test.ts.
 */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { expectJson, expectNoContent } from "./support/expect-response";
import { bodyOf, createTenant, type TestTenant } from "./support/http";
import { entra } from "./support/idp";
import type { GroupJson, ListJson } from "./support/scim-json";
import { ENTERPRISE, GROUP, LIST_RESPONSE, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

/** IDP-BEHAVIOUR.md, Entra, Groups: "`POST /Groups` with an extra schema …". */
const ADSCIM_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

interface UserJson {
  id: string;
  userName: string;
  active?: boolean;
  groups?: { value: string; display?: string; $ref?: string }[];
}

/** IDP-BEHAVIOUR.md, Entra, "Create: `POST /Users` …" (Microsoft's documented body). */
async function entraUser(tenant: TestTenant): Promise<UserJson> {
  const tag = crypto.randomUUID();
  const res = await entra(tenant, "/Users", {
    method: "POST",
    json: {
      schemas: [USER, ENTERPRISE],
      externalId: `ext-${tag}`,
      userName: `Test_User_${tag}@testuser.com`,
      active: true,
      addresses: null,
      emails: [{ primary: true, type: "work", value: `Test_User_${tag}@testuser.com` }],
      meta: { resourceType: "User" },
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      roles: [],
    },
  });
  return expectJson<UserJson>(res, 201);
}

/**
 * IDP-BEHAVIOUR.md, Entra: "`POST /Groups` with an extra schema
 * `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`, `externalId`, no
 * members" (Microsoft's documented body, `meta.resourceType` included).
 */
function entraGroupBody(displayName: string, externalId: string) {
  return { schemas: [GROUP, ADSCIM_GROUP], externalId, displayName, meta: { resourceType: "Group" } };
}

async function entraGroup(tenant: TestTenant, displayName: string, externalId = crypto.randomUUID()): Promise<GroupJson> {
  const res = await entra(tenant, "/Groups", { method: "POST", json: entraGroupBody(displayName, externalId) });
  return expectJson<GroupJson>(res, 201);
}

function entraPatch(tenant: TestTenant, groupId: string, Operations: unknown[], query = ""): Promise<Response> {
  return entra(tenant, `/Groups/${groupId}${query}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations } });
}

/** IDP-BEHAVIOUR.md, Entra: `{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648…"}]}`. */
function addMembers(...users: UserJson[]) {
  return { op: "Add", path: "members", value: users.map((u) => ({ $ref: null, value: u.id })) };
}

/** IDP-BEHAVIOUR.md, Entra, default dialect: `{"op":"Remove","path":"members","value":[{"value":"u1091"}]}`. */
function removeMembers(...users: UserJson[]) {
  return { op: "Remove", path: "members", value: users.map((u) => ({ value: u.id })) };
}

/** IDP-BEHAVIOUR.md, Entra: `GET /Groups/{id}?excludedAttributes=members`. */
async function readLean(tenant: TestTenant, id: string): Promise<GroupJson> {
  const res = await entra(tenant, `/Groups/${id}?excludedAttributes=members`);
  const body = await bodyOf<GroupJson>(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(body, `excludedAttributes=members must leave members out: ${JSON.stringify(body)}`).not.toHaveProperty("members");
  return body;
}

async function memberIds(tenant: TestTenant, id: string): Promise<string[]> {
  const res = await entra(tenant, `/Groups/${id}`);
  const body = await bodyOf<GroupJson>(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return (body.members ?? []).map((m) => m.value).sort();
}

async function list(tenant: TestTenant, query: string): Promise<ListJson<GroupJson>> {
  const res = await entra(tenant, `/Groups?${query}`);
  const body = await bodyOf<ListJson<GroupJson>>(res);
  const context = `${query}: ${JSON.stringify(body)}`;
  expect(res.status, context).toBe(200);
  expect(body.schemas, context).toEqual([LIST_RESPONSE]);
  for (const key of ["totalResults", "startIndex", "itemsPerPage"] as const) expect(Number.isInteger(body[key]), context).toBe(true);
  return body;
}

/**
 * IDP-BEHAVIOUR.md, Entra: the membership check
 * `GET /Groups?filter=id eq "…" and members[value eq "…"]&excludedAttributes=members`.
 */
async function isMember(tenant: TestTenant, groupId: string, userId: string): Promise<boolean> {
  const body = await list(tenant, `filter=id eq "${groupId}" and members[value eq "${userId}"]&excludedAttributes=members`);
  const context = JSON.stringify(body);
  expect(body.totalResults, context).toBeLessThanOrEqual(1);
  for (const group of body.Resources) {
    expect(group.id, context).toBe(groupId);
    expect(group, `the membership check excludes members: ${context}`).not.toHaveProperty("members");
  }
  return body.totalResults === 1;
}

async function storedMemberCount(tenant: TestTenant, groupId: string): Promise<number | undefined> {
  const row = await (await shardOf(tenant.id)).prepare("SELECT member_count AS n FROM groups WHERE tenant_id = ? AND id = ?").bind(tenant.id, groupId).first<{ n: number }>();
  return row?.n;
}

async function getUser(tenant: TestTenant, id: string): Promise<UserJson> {
  return expectJson<UserJson>(await entra(tenant, `/Users/${id}`), 200);
}

describe("Entra: group create and reads", () => {
  it("creates a group from Entra's body (ADSCIM schema URN, externalId, no members): 201, externalId kept, no members", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const externalId = "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159";
    const res = await entra(tenant, "/Groups", { method: "POST", json: entraGroupBody("Entra Engineering", externalId) });
    const body = await bodyOf<GroupJson>(res);
    const context = JSON.stringify(body);
    expect(res.status, context).toBe(201);
    expect(res.headers.get("Location"), context).toBe(`${tenant.baseUrl}/Groups/${body.id}`);
    expect(body.schemas, context).toContain(GROUP);
    expect(body, context).toMatchObject({ displayName: "Entra Engineering", externalId, meta: { resourceType: "Group" } });
    expect(body.members ?? [], context).toEqual([]);
    const lean = await readLean(tenant, body.id);
    expect(lean, JSON.stringify(lean)).toMatchObject({ id: body.id, displayName: "Entra Engineering", externalId });
  });

  it("reads GET /Groups/{id}?excludedAttributes=members without members although the group has some", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const [a, b] = [await entraUser(tenant), await entraUser(tenant)];
    const group = await entraGroup(tenant, "Entra Lean Read");
    await expectNoContent(await entraPatch(tenant, group.id, [addMembers(a, b)]), "Add");
    const lean = await readLean(tenant, group.id);
    expect(lean, JSON.stringify(lean)).toMatchObject({ id: group.id, displayName: "Entra Lean Read", meta: { resourceType: "Group" } });
    expect(await memberIds(tenant, group.id), "the full read still has them").toEqual([a.id, b.id].sort());
  });

  it('finds a group with GET /Groups?excludedAttributes=members&filter=displayName eq "…", and answers an empty list for an unknown name', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraUser(tenant);
    const group = await entraGroup(tenant, "Entra Finance");
    await entraGroup(tenant, "Entra Finance Ops");
    await expectNoContent(await entraPatch(tenant, group.id, [addMembers(user)]), "Add");
    const other = await createTenant({ provider: "entra" });
    await entraGroup(other, "Entra Finance");
    const found = await list(tenant, 'excludedAttributes=members&filter=displayName eq "Entra Finance"');
    expect(found.totalResults, JSON.stringify(found)).toBe(1);
    expect(found.Resources.map((g) => g.id), JSON.stringify(found)).toEqual([group.id]);
    expect(found.Resources[0], JSON.stringify(found)).not.toHaveProperty("members");
    const none = await list(tenant, 'excludedAttributes=members&filter=displayName eq "Entra Payroll"');
    expect(none, JSON.stringify(none)).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it("answers the membership check with the group for a member, and an empty list for a non-member, another group's member, or another tenant's group", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const [member, outsider, elsewhere] = [await entraUser(tenant), await entraUser(tenant), await entraUser(tenant)];
    const group = await entraGroup(tenant, "Entra Checked");
    const second = await entraGroup(tenant, "Entra Elsewhere");
    await expectNoContent(await entraPatch(tenant, group.id, [addMembers(member)]), "Add to group");
    await expectNoContent(await entraPatch(tenant, second.id, [addMembers(elsewhere)]), "Add to second");
    expect(await isMember(tenant, group.id, member.id), "a member is found").toBe(true);
    expect(await isMember(tenant, group.id, outsider.id), "a user in no group is not").toBe(false);
    expect(await isMember(tenant, group.id, elsewhere.id), "another group's member is not").toBe(false);
    const other = await createTenant({ provider: "entra" });
    expect(await isMember(other, group.id, member.id), "another tenant does not see the group").toBe(false);
  });
});

describe("Entra: membership PATCH", () => {
  it('adds several members in one Add with "$ref": null: 204 and all of them present', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const [a, b, c] = [await entraUser(tenant), await entraUser(tenant), await entraUser(tenant)];
    const group = await entraGroup(tenant, "Entra Bulk Add");
    await expectNoContent(await entraPatch(tenant, group.id, [addMembers(a, b)]), "Add two");
    expect(await memberIds(tenant, group.id)).toEqual([a.id, b.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);
    await expectNoContent(await entraPatch(tenant, group.id, [addMembers(b, c)]), "Add one present, one new");
    expect(await memberIds(tenant, group.id)).toEqual([a.id, b.id, c.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(3);
    for (const user of [a, b, c]) expect(await isMember(tenant, group.id, user.id), user.id).toBe(true);
  });

  it("removes ONLY the listed members for the default dialect's Remove with a value array, and nothing for a non-member", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const [a, b, c, d, stranger] = [await entraUser(tenant), await entraUser(tenant), await entraUser(tenant), await entraUser(tenant), await entraUser(tenant)];
    const group = await entraGroup(tenant, "Entra Keep Others");
    await expectNoContent(await entraPatch(tenant, group.id, [addMembers(a, b, c, d)]), "Add four");
    await expectNoContent(await entraPatch(tenant, group.id, [removeMembers(b, d)]), "Remove b and d");
    expect(await memberIds(tenant, group.id), "never a wipe of the whole group").toEqual([a.id, c.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);
    expect((await getUser(tenant, b.id)).groups ?? [], "the removed user no longer lists the group").toEqual([]);
    expect((await getUser(tenant, a.id)).groups?.map((g) => g.value), "a kept user still does").toEqual([group.id]);
    await expectNoContent(await entraPatch(tenant, group.id, [removeMembers(stranger)]), "Remove a non-member");
    expect(await memberIds(tenant, group.id)).toEqual([a.id, c.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);
  });

  it('removes a member with ?aadOptscim062020\'s {"op":"remove","path":"members[value eq \\"…\\"]"}, keeping the others', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const [a, b, c] = [await entraUser(tenant), await entraUser(tenant), await entraUser(tenant)];
    const group = await entraGroup(tenant, "Entra New Dialect");
    await expectNoContent(
      await entraPatch(tenant, group.id, [{ op: "add", path: "members", value: [a, b, c].map((u) => ({ value: u.id })) }], "?aadOptscim062020"),
      "lowercase add",
    );
    await expectNoContent(await entraPatch(tenant, group.id, [{ op: "remove", path: `members[value eq "${b.id}"]` }], "?aadOptscim062020"), "remove by filter");
    expect(await memberIds(tenant, group.id)).toEqual([a.id, c.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);
    expect(await isMember(tenant, group.id, b.id)).toBe(false);
  });

  it('renames with {"op":"Replace","path":"displayName","value":"…"}: 204, members untouched, users see the new name', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraUser(tenant);
    const group = await entraGroup(tenant, "Entra Old Name", "ext-rename");
    await expectNoContent(await entraPatch(tenant, group.id, [addMembers(user)]), "Add");
    await expectNoContent(await entraPatch(tenant, group.id, [{ op: "Replace", path: "displayName", value: "Entra New Name" }]), "Replace displayName");
    const lean = await readLean(tenant, group.id);
    expect(lean, JSON.stringify(lean)).toMatchObject({ displayName: "Entra New Name", externalId: "ext-rename" });
    expect(await memberIds(tenant, group.id)).toEqual([user.id]);
    expect((await getUser(tenant, user.id)).groups).toEqual([{ value: group.id, display: "Entra New Name", type: "direct", $ref: `${tenant.baseUrl}/Groups/${group.id}` }]);
    const byName = await list(tenant, 'excludedAttributes=members&filter=displayName eq "Entra New Name"');
    expect(byName.Resources.map((g) => g.id), JSON.stringify(byName)).toEqual([group.id]);
    expect((await list(tenant, 'excludedAttributes=members&filter=displayName eq "Entra Old Name"')).totalResults).toBe(0);
  });
});

describe("Entra: a provisioned group's whole life", () => {
  it("create, Add several, Add/Remove/rename, disable a member (readable, still a member), hard-delete it (leaves), delete the group (404, gone from users)", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const [a, b, c] = [await entraUser(tenant), await entraUser(tenant), await entraUser(tenant)];

    // 1. Create (no members), then the membership check before any Add.
    const group = await entraGroup(tenant, "Entra Journey", "ext-journey");
    expect(await isMember(tenant, group.id, a.id)).toBe(false);

    // 2. Add two members in one request.
    await expectNoContent(await entraPatch(tenant, group.id, [addMembers(a, b)]), "Add a, b");
    expect(await isMember(tenant, group.id, a.id)).toBe(true);
    expect(await isMember(tenant, group.id, b.id)).toBe(true);
    expect(await storedMemberCount(tenant, group.id)).toBe(2);

    // 3. Entra's default dialect: one op per change, several ops in one request.
    await expectNoContent(
      await entraPatch(tenant, group.id, [addMembers(c), removeMembers(a), { op: "Replace", path: "displayName", value: "Entra Journey Renamed" }]),
      "Add c, Remove a, Replace displayName",
    );
    expect((await readLean(tenant, group.id)).displayName).toBe("Entra Journey Renamed");
    expect(await memberIds(tenant, group.id)).toEqual([b.id, c.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);

    // 4. Unassign / disable / soft delete: Replace active "False". Still readable, still a member.
    const disable = await entra(tenant, `/Users/${b.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value: "False" }] },
    });
    expect([200, 204], await disable.clone().text()).toContain(disable.status);
    const disabled = await getUser(tenant, b.id);
    expect(disabled.active, JSON.stringify(disabled)).toBe(false);
    expect(disabled.groups?.map((g) => g.value), JSON.stringify(disabled)).toEqual([group.id]);
    expect(await isMember(tenant, group.id, b.id), "a disabled user stays a member").toBe(true);
    expect(await storedMemberCount(tenant, group.id)).toBe(2);

    // 5. Hard delete 30 days later: 204, and the user is gone from the group.
    const hardDelete = await entra(tenant, `/Users/${b.id}`, { method: "DELETE" });
    expect(hardDelete.status, await hardDelete.text()).toBe(204);
    expect(await isMember(tenant, group.id, b.id), "a deleted user is no longer a member").toBe(false);
    expect(await memberIds(tenant, group.id)).toEqual([c.id]);
    expect(await storedMemberCount(tenant, group.id), "member_count follows the deletion").toBe(1);

    // 6. Delete the group: 204, then 404 everywhere, and the remaining users no longer list it.
    await expectNoContent(await entra(tenant, `/Groups/${group.id}`, { method: "DELETE" }), "DELETE /Groups/{id}");
    await expectScimError(await entra(tenant, `/Groups/${group.id}?excludedAttributes=members`), 404);
    await expectScimError(await entraPatch(tenant, group.id, [addMembers(a)]), 404);
    expect(await isMember(tenant, group.id, c.id)).toBe(false);
    for (const user of [a, c]) expect((await getUser(tenant, user.id)).groups ?? [], user.id).toEqual([]);
    const gone = await list(tenant, 'excludedAttributes=members&filter=displayName eq "Entra Journey Renamed"');
    expect(gone, JSON.stringify(gone)).toMatchObject({ totalResults: 0, Resources: [] });
  });
});
