/**
 * /Groups as Okta's group push drives it: every request replays a "## Okta" line of
 * /work/shared/IDP-BEHAVIOUR.md with Okta's User-Agent and media types. RFC-level group
 * behaviour lives in groups.test.ts; the empty connector probe in okta-users.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { expectJson, expectListResponse, expectNoContent } from "./support/expect-response";
import { bodyOf, createTenant, type TestTenant } from "./support/http";
import { okta } from "./support/idp";
import type { GroupJson, ListJson, MemberJson } from "./support/scim-json";
import { seedUsers } from "./support/seed";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

interface UserJson {
  id: string;
  userName: string;
  displayName?: string;
  active?: boolean;
  groups?: { value: string; display?: string; $ref?: string }[];
}

/** IDP-BEHAVIOUR.md, Okta, "Create: `POST /Users` with …" (the user side of a push). */
async function oktaUser(tenant: TestTenant, given: string, family: string): Promise<UserJson> {
  const login = `${given}.${family}.${crypto.randomUUID().slice(0, 8)}@okta.local`.toLowerCase();
  const res = await okta(tenant, "/Users", {
    method: "POST",
    json: {
      schemas: [USER],
      userName: login,
      name: { givenName: given, familyName: family },
      emails: [{ primary: true, value: login, type: "work" }],
      displayName: `${given} ${family}`,
      locale: "en-US",
      externalId: `00u${crypto.randomUUID().replaceAll("-", "").slice(0, 17)}`,
      groups: [],
      password: "1mz050nq-Okta-Secret",
      active: true,
    },
  });
  return expectJson<UserJson>(res, 201);
}

/** IDP-BEHAVIOUR.md, Okta, "Group push: `POST /Groups {"schemas":[…],"displayName":"…","members":[]}`". */
async function pushGroup(tenant: TestTenant, displayName: string): Promise<GroupJson> {
  const res = await okta(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName, members: [] } });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  expect(text.length, "Okta treats an empty create response as a failure").toBeGreaterThan(0);
  return JSON.parse(text) as GroupJson;
}

/** The member entry Okta sends: `{"value":"23a3…","display":"…"}`. */
function member(user: UserJson): { value: string; display: string } {
  return { value: user.id, display: user.displayName ?? user.userName };
}

/** The rename op Okta puts in every membership update: `{"op":"replace","value":{"id":"…","displayName":"…"}}`. */
function renameOp(group: { id: string }, displayName: string) {
  return { op: "replace", value: { id: group.id, displayName } };
}

/** IDP-BEHAVIOUR.md, Okta: `{"op":"remove","path":"members[value eq \"89bb…\"]"}`. */
function removeOp(user: UserJson) {
  return { op: "remove", path: `members[value eq "${user.id}"]` };
}

/** IDP-BEHAVIOUR.md, Okta: `{"op":"add","path":"members","value":[{"value":"23a3…","display":"…"}]}`. */
function addOp(...users: UserJson[]) {
  return { op: "add", path: "members", value: users.map(member) };
}

function oktaPatch(tenant: TestTenant, groupId: string, Operations: unknown[]): Promise<Response> {
  return okta(tenant, `/Groups/${groupId}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations } });
}

async function getGroup(tenant: TestTenant, id: string): Promise<GroupJson> {
  return expectJson<GroupJson>(await okta(tenant, `/Groups/${id}`), 200);
}

async function getUser(tenant: TestTenant, id: string): Promise<UserJson> {
  return expectJson<UserJson>(await okta(tenant, `/Users/${id}`), 200);
}

function sortedIds(members: MemberJson[] | undefined): string[] {
  return (members ?? []).map((m) => m.value).sort();
}

/** groups.member_count as stored (what seat counts and the host app read). */
async function storedMemberCount(tenant: TestTenant, groupId: string): Promise<number | undefined> {
  const row = await (await shardOf(tenant.id)).prepare("SELECT member_count AS n FROM groups WHERE tenant_id = ? AND id = ?").bind(tenant.id, groupId).first<{ n: number }>();
  return row?.n;
}

async function membershipRows(tenant: TestTenant, groupId: string): Promise<number> {
  const row = await (await shardOf(tenant.id)).prepare("SELECT COUNT(*) AS n FROM group_members WHERE tenant_id = ? AND group_id = ?").bind(tenant.id, groupId).first<{ n: number }>();
  return row?.n ?? -1;
}

describe("Okta: group push", () => {
  it("creates a pushed group from Okta's body with members: []: 201, a non-empty body, Location, and no members", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const res = await okta(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Okta Engineering", members: [] } });
    const body = await bodyOf<GroupJson>(res);
    const context = JSON.stringify(body);
    expect(res.status, context).toBe(201);
    expect(res.headers.get("Content-Type"), context).toMatch(/^application\/scim\+json/);
    expect(res.headers.get("Location"), context).toBe(`${tenant.baseUrl}/Groups/${body.id}`);
    expect(body.schemas, context).toContain(GROUP);
    expect(body.displayName, context).toBe("Okta Engineering");
    expect(body.id, context).toMatch(/\S/);
    expect(body.meta, context).toMatchObject({ resourceType: "Group", location: `${tenant.baseUrl}/Groups/${body.id}` });
    expect(body.members ?? [], context).toEqual([]);
    expect(await storedMemberCount(tenant, body.id)).toBe(0);
  });

  it('finds a pushed group by displayName eq "…" (any case of the value and of the attribute name), and answers an empty list for an unknown name', async () => {
    const tenant = await createTenant({ provider: "okta" });
    const group = await pushGroup(tenant, "Okta Sales EMEA");
    await pushGroup(tenant, "Okta Sales");
    const other = await createTenant({ provider: "okta" });
    await pushGroup(other, "Okta Sales EMEA");
    for (const filter of ['displayName eq "Okta Sales EMEA"', 'displayName eq "okta sales emea"', 'DISPLAYNAME eq "OKTA SALES EMEA"']) {
      const res = await okta(tenant, `/Groups?filter=${encodeURIComponent(filter)}&startIndex=1&count=100`);
      const body = await bodyOf<ListJson<GroupJson>>(res);
      const context = `${filter}: ${JSON.stringify(body)}`;
      expect(res.status, context).toBe(200);
      expectListResponse(body);
      expect(body.totalResults, context).toBe(1);
      expect(body.Resources.map((g) => g.id), context).toEqual([group.id]);
    }
    const none = await okta(tenant, `/Groups?filter=${encodeURIComponent('displayName eq "Okta Marketing"')}&startIndex=1&count=100`);
    const empty = await bodyOf<ListJson<GroupJson>>(none);
    expect(none.status, JSON.stringify(empty)).toBe(200);
    expectListResponse(empty);
    expect(empty, JSON.stringify(empty)).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it("lists the tenant's groups with their members for GET /Groups?startIndex=1&count=100, never another tenant's", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const [ada, alan] = [await oktaUser(tenant, "Ada", "Lovelace"), await oktaUser(tenant, "Alan", "Turing")];
    const first = await pushGroup(tenant, "Okta Readers");
    const second = await pushGroup(tenant, "Okta Writers");
    await expectNoContent(await oktaPatch(tenant, first.id, [renameOp(first, "Okta Readers"), addOp(ada, alan)]), "add to Readers");
    const other = await createTenant({ provider: "okta" });
    await pushGroup(other, "Foreign");
    const res = await okta(tenant, "/Groups?startIndex=1&count=100");
    const body = await bodyOf<ListJson<GroupJson>>(res);
    const context = JSON.stringify(body);
    expect(res.status, context).toBe(200);
    expectListResponse(body);
    expect(body, context).toMatchObject({ totalResults: 2, startIndex: 1, itemsPerPage: 2 });
    expect(body.Resources.map((g) => g.id).sort(), context).toEqual([first.id, second.id].sort());
    const readers = body.Resources.find((g) => g.id === first.id);
    expect(sortedIds(readers?.members), context).toEqual([ada.id, alan.id].sort());
    expect(readers?.members?.find((m) => m.value === ada.id), context).toMatchObject({ display: "Ada Lovelace", type: "User" });
    expect(body.Resources.find((g) => g.id === second.id)?.members ?? [], context).toEqual([]);
  });

  it("imports 150 groups in pages of count=100 stepping startIndex by 100: each group exactly once, the same order on a second pass", async () => {
    const tenant = await createTenant({ provider: "okta" });
    await seedUsers(env, tenant.id, { users: 150, groups: 150 });
    const page = async (startIndex: number) => {
      const res = await okta(tenant, `/Groups?startIndex=${startIndex}&count=100`);
      const body = await bodyOf<ListJson<GroupJson>>(res);
      const context = `startIndex=${startIndex}: ${JSON.stringify({ ...body, Resources: body.Resources.map((g) => g.id) })}`;
      expect(res.status, context).toBe(200);
      expectListResponse(body);
      expect(body.totalResults, context).toBe(150);
      expect(body.startIndex, context).toBe(startIndex);
      expect(body.itemsPerPage, context).toBe(body.Resources.length);
      return body.Resources.map((g) => g.id);
    };
    const pass = async () => [...(await page(1)), ...(await page(101))];
    const ids = await pass();
    expect(ids.length, JSON.stringify(ids)).toBe(150);
    expect(new Set(ids).size, "no group may appear on two pages").toBe(150);
    expect(await page(201), "a page past the end is empty").toEqual([]);
    expect(await pass(), "ordering must be stable across passes").toEqual(ids);
  });
});

describe("Okta: membership updates", () => {
  it("applies rename + remove members[value eq] + add members in ONE request: 204, all three applied", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const [ada, alan, grace] = [await oktaUser(tenant, "Ada", "Lovelace"), await oktaUser(tenant, "Alan", "Turing"), await oktaUser(tenant, "Grace", "Hopper")];
    const group = await pushGroup(tenant, "Okta Pioneers");
    await expectNoContent(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Pioneers"), addOp(ada, alan)]), "initial add");
    await expectNoContent(
      await oktaPatch(tenant, group.id, [renameOp(group, "Okta Computing Pioneers"), removeOp(ada), addOp(grace)]),
      "rename + remove + add",
    );
    const after = await getGroup(tenant, group.id);
    const context = JSON.stringify(after);
    expect(after.displayName, context).toBe("Okta Computing Pioneers");
    expect(sortedIds(after.members), context).toEqual([alan.id, grace.id].sort());
    expect(after.members?.find((m) => m.value === grace.id), context).toMatchObject({ display: "Grace Hopper", type: "User", $ref: `${tenant.baseUrl}/Users/${grace.id}` });
    expect(await storedMemberCount(tenant, group.id)).toBe(2);
    expect((await getUser(tenant, ada.id)).groups ?? [], "the removed user no longer lists the group").toEqual([]);
    expect((await getUser(tenant, grace.id)).groups, "the added user lists the group under its new name").toEqual([
      { value: group.id, display: "Okta Computing Pioneers", type: "direct", $ref: `${tenant.baseUrl}/Groups/${group.id}` },
    ]);
  });

  it("accepts the rename op repeating the group's current displayName and its own id: no 409 against itself, no 400 on id", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const ada = await oktaUser(tenant, "Ada", "Lovelace");
    const group = await pushGroup(tenant, "Okta Unchanged");
    await expectNoContent(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Unchanged"), addOp(ada)]), "same-name rename + add");
    // Okta also sends the rename op alone when only the name changed in Okta.
    await expectNoContent(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Unchanged")]), "same-name rename alone");
    const after = await getGroup(tenant, group.id);
    expect(after.id, JSON.stringify(after)).toBe(group.id);
    expect(after.displayName, JSON.stringify(after)).toBe("Okta Unchanged");
    expect(sortedIds(after.members), JSON.stringify(after)).toEqual([ada.id]);
  });

  it("answers 409 uniqueness to a rename op taking another group's name, applying none of the request's member ops", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const [ada, alan] = [await oktaUser(tenant, "Ada", "Lovelace"), await oktaUser(tenant, "Alan", "Turing")];
    await pushGroup(tenant, "Okta Taken");
    const group = await pushGroup(tenant, "Okta Free");
    await expectNoContent(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Free"), addOp(ada)]), "initial add");
    await expectScimError(await oktaPatch(tenant, group.id, [renameOp(group, "okta taken"), removeOp(ada), addOp(alan)]), 409, "uniqueness");
    const after = await getGroup(tenant, group.id);
    expect(after.displayName, JSON.stringify(after)).toBe("Okta Free");
    expect(sortedIds(after.members), JSON.stringify(after)).toEqual([ada.id]);
    expect(await storedMemberCount(tenant, group.id)).toBe(1);
  });

  it('sets exactly the listed members with {"op":"replace","path":"members","value":[…]}, and empties the group with value []', async () => {
    const tenant = await createTenant({ provider: "okta" });
    const [ada, alan, grace] = [await oktaUser(tenant, "Ada", "Lovelace"), await oktaUser(tenant, "Alan", "Turing"), await oktaUser(tenant, "Grace", "Hopper")];
    const group = await pushGroup(tenant, "Okta Replace");
    await expectNoContent(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Replace"), addOp(ada, alan)]), "initial add");
    await expectNoContent(
      await oktaPatch(tenant, group.id, [renameOp(group, "Okta Replace"), { op: "replace", path: "members", value: [member(alan), member(grace)] }]),
      "replace members",
    );
    const replaced = await getGroup(tenant, group.id);
    expect(sortedIds(replaced.members), JSON.stringify(replaced)).toEqual([alan.id, grace.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);
    expect((await getUser(tenant, ada.id)).groups ?? []).toEqual([]);
    await expectNoContent(await oktaPatch(tenant, group.id, [{ op: "replace", path: "members", value: [] }]), "replace with []");
    const emptied = await getGroup(tenant, group.id);
    expect(emptied.members ?? [], JSON.stringify(emptied)).toEqual([]);
    expect(await storedMemberCount(tenant, group.id)).toBe(0);
    expect(await membershipRows(tenant, group.id)).toBe(0);
  });

  it("replaces the group with Okta's PUT carrying its full members (and readOnly id/meta): 200 with the new members", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const [ada, alan, grace] = [await oktaUser(tenant, "Ada", "Lovelace"), await oktaUser(tenant, "Alan", "Turing"), await oktaUser(tenant, "Grace", "Hopper")];
    const group = await pushGroup(tenant, "Okta Put");
    await expectNoContent(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Put"), addOp(ada, alan)]), "initial add");
    const current = await getGroup(tenant, group.id);
    const res = await okta(tenant, `/Groups/${group.id}`, {
      method: "PUT",
      json: { ...current, displayName: "Okta Put Renamed", members: [member(alan), member(grace)] },
    });
    const body = await bodyOf<GroupJson>(res);
    const context = JSON.stringify(body);
    expect(res.status, context).toBe(200);
    expect(body.id, context).toBe(group.id);
    expect(body.displayName, context).toBe("Okta Put Renamed");
    expect(sortedIds(body.members), context).toEqual([alan.id, grace.id].sort());
    expect(body.meta.version, context).not.toBe(current.meta.version);
    expect(sortedIds((await getGroup(tenant, group.id)).members)).toEqual([alan.id, grace.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);
  });
});

describe("Okta: a pushed group's whole life", () => {
  it("push with 2 members, add/remove/rename in one PATCH, deactivate (stays a member), delete a user (leaves), unlink with DELETE (404, gone from users)", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const [ada, alan, grace] = [await oktaUser(tenant, "Ada", "Lovelace"), await oktaUser(tenant, "Alan", "Turing"), await oktaUser(tenant, "Grace", "Hopper")];

    // 1. Push the group, then its first two members (Okta pushes members in a PATCH after the POST).
    const group = await pushGroup(tenant, "Okta Journey");
    await expectNoContent(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Journey"), addOp(ada, alan)]), "push members");
    let state = await getGroup(tenant, group.id);
    expect(sortedIds(state.members), JSON.stringify(state)).toEqual([ada.id, alan.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);

    // 2. One request: rename, remove Ada, add Grace.
    await expectNoContent(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Journey 2"), removeOp(ada), addOp(grace)]), "rename + remove + add");
    state = await getGroup(tenant, group.id);
    expect(state.displayName, JSON.stringify(state)).toBe("Okta Journey 2");
    expect(sortedIds(state.members), JSON.stringify(state)).toEqual([alan.id, grace.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);

    // 3. Deactivate Alan (Okta's path-less replace): he stays readable and stays a member.
    const deactivate = await okta(tenant, `/Users/${alan.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] },
    });
    expect([200, 204], await deactivate.clone().text()).toContain(deactivate.status);
    const inactive = await getUser(tenant, alan.id);
    expect(inactive.active, JSON.stringify(inactive)).toBe(false);
    expect(inactive.groups, JSON.stringify(inactive)).toEqual([{ value: group.id, display: "Okta Journey 2", type: "direct", $ref: `${tenant.baseUrl}/Groups/${group.id}` }]);
    state = await getGroup(tenant, group.id);
    expect(sortedIds(state.members), `a deactivated user stays a member: ${JSON.stringify(state)}`).toEqual([alan.id, grace.id].sort());
    expect(await storedMemberCount(tenant, group.id)).toBe(2);

    // 4. Delete Grace (Okta never sends DELETE /Users; the app's own cleanup does): she leaves the group.
    const deleted = await okta(tenant, `/Users/${grace.id}`, { method: "DELETE" });
    expect(deleted.status, await deleted.text()).toBe(204);
    state = await getGroup(tenant, group.id);
    expect(sortedIds(state.members), `a deleted user leaves: ${JSON.stringify(state)}`).toEqual([alan.id]);
    expect(await storedMemberCount(tenant, group.id), "member_count follows the deletion").toBe(1);
    expect(await membershipRows(tenant, group.id)).toBe(1);

    // 5. Unlink the pushed group with delete: 204, then 404; the users remain, without the group.
    await expectNoContent(await okta(tenant, `/Groups/${group.id}`, { method: "DELETE" }), "DELETE /Groups/{id}");
    await expectScimError(await okta(tenant, `/Groups/${group.id}`), 404);
    await expectScimError(await oktaPatch(tenant, group.id, [renameOp(group, "Okta Journey 3")]), 404);
    await expectScimError(await okta(tenant, `/Groups/${group.id}`, { method: "DELETE" }), 404);
    for (const user of [ada, alan]) {
      const after = await getUser(tenant, user.id);
      expect(after.groups ?? [], `${user.displayName} no longer lists the deleted group: ${JSON.stringify(after)}`).toEqual([]);
    }
    expect(await membershipRows(tenant, group.id)).toBe(0);
    const list = await bodyOf<ListJson<GroupJson>>(await okta(tenant, "/Groups?startIndex=1&count=100"));
    expect(list, JSON.stringify(list)).toMatchObject({ totalResults: 0, Resources: [] });
  });
});
