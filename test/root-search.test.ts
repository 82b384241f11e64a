/** Search across resource types at the tenant's root (RFC 7644 §3.4.2.1, §3.4.3): GET /?filter= and POST /.search. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingEnv, send } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { GROUP, USER } from "./support/urns";

const SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

interface ResourceJson {
  id: string;
  schemas: string[];
  userName?: string;
  displayName?: string;
  meta?: { resourceType: string; location?: string };
}

/** 3 users and 2 groups, all with a displayName starting "Root". */
async function directory(tenant: TestTenant): Promise<{ users: string[]; groups: string[] }> {
  const users: string[] = [];
  for (const n of [1, 2, 3]) {
    const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `root${n}@example.com`, displayName: `Root user ${n}` } });
    users.push((await bodyOf<{ id: string }>(res)).id);
  }
  const groups: string[] = [];
  for (const n of [1, 2]) {
    const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: `Root group ${n}` } });
    groups.push((await bodyOf<{ id: string }>(res)).id);
  }
  return { users, groups };
}

async function search(tenant: TestTenant, body: Record<string, unknown>): Promise<ListJson<ResourceJson>> {
  const res = await scim(tenant, "/.search", { method: "POST", json: { schemas: [SEARCH_REQUEST], ...body } });
  const json = await bodyOf<ListJson<ResourceJson>>(res);
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

describe("root search", () => {
  it("returns users and groups, each with its schemas and meta.resourceType, for GET /?filter= and POST /.search", async () => {
    const tenant = await createTenant();
    const { users, groups } = await directory(tenant);
    const filter = 'displayName sw "Root"';
    const viaGet = await bodyOf<ListJson<ResourceJson>>(await scim(tenant, `/?filter=${encodeURIComponent(filter)}`));
    const viaPost = await search(tenant, { filter, attributes: ["displayName"] });
    for (const list of [viaGet, viaPost]) {
      const context = JSON.stringify(list);
      expect(list.totalResults, context).toBe(5);
      expect(list.Resources.map((r) => r.id), context).toEqual([...users, ...groups]);
      expect(list.Resources.map((r) => r.meta?.resourceType), context).toEqual(["User", "User", "User", "Group", "Group"]);
      expect(list.Resources.map((r) => r.schemas[0]), context).toEqual([USER, USER, USER, GROUP, GROUP]);
    }
    // attributes=displayName: no userName, but schemas and meta.resourceType stay.
    expect(viaPost.Resources[0], JSON.stringify(viaPost)).toEqual({ id: users[0], schemas: [USER], displayName: "Root user 1", meta: { resourceType: "User" } });
  });

  it("pages by startIndex through users and then groups", async () => {
    const tenant = await createTenant();
    const { users, groups } = await directory(tenant);
    const pages = [];
    for (const startIndex of [1, 3, 5, 7]) pages.push(await search(tenant, { startIndex, count: 2 }));
    expect(pages.map((p) => p.Resources.map((r) => r.id))).toEqual([users.slice(0, 2), [users[2], groups[0]], [groups[1]], []]);
    expect(pages.map((p) => [p.totalResults, p.startIndex, p.itemsPerPage])).toEqual([
      [5, 1, 2],
      [5, 3, 2],
      [5, 5, 1],
      [5, 7, 0],
    ]);
  });

  it("pages by cursor through users and then groups, with nextCursor until the end", async () => {
    const tenant = await createTenant();
    const { users, groups } = await directory(tenant);
    const seen: string[] = [];
    let cursor: string | undefined = "";
    let pages = 0;
    while (cursor !== undefined && pages < 10) {
      const page: ListJson<ResourceJson> = await bodyOf<ListJson<ResourceJson>>(await scim(tenant, `/?count=2&cursor=${encodeURIComponent(cursor)}`));
      expect(page.totalResults, JSON.stringify(page)).toBe(5);
      seen.push(...page.Resources.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    }
    expect(seen).toEqual([...users, ...groups]);
    expect(pages).toBe(3);
  });

  it("reads D1 once per resource type, whichever paging", async () => {
    const tenant = await createTenant();
    await directory(tenant);
    const counting = countingEnv(env);
    for (const query of ["?count=2", "?startIndex=3&count=2", "?count=2&cursor=", "?count=10&cursor="]) {
      const sent = await send(counting, new Request(`${tenant.baseUrl}/${query}`, { headers: { Authorization: `Bearer ${tenant.token}` } }));
      const page = await bodyOf<ListJson<ResourceJson>>(sent.response);
      expect(page.totalResults, `${query}: ${JSON.stringify(page)}`).toBe(5);
      expect(sent.before.d1RoundTrips, query).toBe(2);
    }
  });

  it("searches only the types that have the filter's attributes", async () => {
    const tenant = await createTenant();
    const { users } = await directory(tenant);
    const list = await search(tenant, { filter: 'userName eq "root2@example.com"' });
    expect(list.Resources.map((r) => r.id), JSON.stringify(list)).toEqual([users[1]]);
    const groupsOnly = await search(tenant, { filter: 'meta.resourceType eq "Group"' });
    expect(groupsOnly.Resources.map((r) => r.meta?.resourceType)).toEqual(["Group", "Group"]);
  });

  it("leaves out a type whose provisioning the tenant turned off", async () => {
    const tenant = await createTenant();
    const { users } = await directory(tenant);
    expect((await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { groupSync: false } })).status).toBe(200);
    const list = await search(tenant, {});
    expect(list.Resources.map((r) => r.id), JSON.stringify(list)).toEqual(users);
  });

  it.each([
    ["an unknown attribute", { filter: 'nonsense eq "x"' }, "invalidFilter"],
    ["an unparsable filter", { filter: "displayName eq" }, "invalidFilter"],
    ["a cursor it did not issue", { cursor: "r1.Widgets.c1.0" }, "invalidCursor"],
    ["a cursor with a bad inner cursor", { cursor: "r1.Users.zz" }, "invalidCursor"],
    ["sortBy", { sortBy: "displayName" }, "invalidValue"],
    ["count=abc", { count: "abc" }, "invalidValue"],
  ])("answers 400 to %s", async (_what, body, scimType) => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/.search", { method: "POST", json: { schemas: [SEARCH_REQUEST], ...body } }), 400, scimType);
  });
});
