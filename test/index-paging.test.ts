/**
 * startIndex paging seeks through per-block counts of live users and groups instead of walking
 * every earlier resource (issue: performance, flat cost). Every page must still equal the plain
 * OFFSET answer.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingEnv, send } from "./support/counting-env";
import { createTenant, scim, type TestTenant } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { type Seeded, seedUsers } from "./support/seed";
import { GROUP, USER } from "./support/urns";

const SEEDED = 3000;

interface Kind {
  endpoint: "Users" | "Groups";
  table: string;
  /** Seeds SEEDED resources of this kind (groups hold one user each). */
  seed(tenantId: string): Promise<Seeded>;
  idOf(seeded: Seeded, i: number): string;
  /** What the deep page excludes so that only the paging itself is read. */
  exclude: string;
  newResource(i: number): unknown;
}

const KINDS: Kind[] = [
  {
    endpoint: "Users",
    table: "users",
    seed: (tenantId) => seedUsers(env, tenantId, { users: SEEDED }),
    idOf: (seeded, i) => seeded.userId(i),
    exclude: "groups",
    newResource: (i) => ({ schemas: [USER], userName: `late-${i}@example.com` }),
  },
  {
    endpoint: "Groups",
    table: "groups",
    seed: (tenantId) => seedUsers(env, tenantId, { users: SEEDED, groups: SEEDED }),
    idOf: (seeded, i) => seeded.groupId(i),
    exclude: "members",
    newResource: (i) => ({ schemas: [GROUP], displayName: `Late ${i}` }),
  },
];

describe.each(KINDS)("startIndex paging of /$endpoint", (kind) => {
  async function page(tenant: TestTenant, startIndex: number): Promise<ListJson<{ id: string }>> {
    const res = await scim(tenant, `/${kind.endpoint}?startIndex=${startIndex}&count=100&attributes=id`);
    const body = await res.json<ListJson<{ id: string }>>();
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body;
  }

  /** The whole tenant in order, through cursor paging (which never uses the block counts). */
  async function allIds(tenant: TestTenant): Promise<string[]> {
    const ids: string[] = [];
    let cursor = "";
    for (;;) {
      const res = await scim(tenant, `/${kind.endpoint}?count=1000&attributes=id&cursor=${encodeURIComponent(cursor)}`);
      const body = await res.json<ListJson<{ id: string }>>();
      ids.push(...body.Resources.map((r) => r.id));
      if (!body.nextCursor) return ids;
      cursor = body.nextCursor;
    }
  }

  it("returns exactly the OFFSET pages across block boundaries, after deletes and new resources", async () => {
    const tenant = await createTenant();
    const seeded = await kind.seed(tenant.id);
    // Deletes on both sides of block edges, then resources created over HTTP (counted by the create batch).
    for (const i of [1, 500, 1023, 1024, 1025, 1500, 2047, 2048, 2999, 3000]) {
      expect((await scim(tenant, `/${kind.endpoint}/${kind.idOf(seeded, i)}`, { method: "DELETE" })).status).toBe(204);
    }
    for (let i = 0; i < 5; i++) {
      const res = await scim(tenant, `/${kind.endpoint}`, { method: "POST", json: kind.newResource(i) });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    const expected = await allIds(tenant);
    expect(expected.length).toBe(SEEDED - 10 + 5);
    for (const startIndex of [1, 2, 100, 1000, 1015, 1020, 1021, 1022, 1500, 2036, 2040, 2900, expected.length - 3, expected.length, expected.length + 1]) {
      const body = await page(tenant, startIndex);
      expect(body.totalResults, `startIndex ${startIndex}`).toBe(expected.length);
      expect(body.startIndex).toBe(startIndex);
      expect(body.Resources.map((r) => r.id), `startIndex ${startIndex}`).toEqual(expected.slice(startIndex - 1, startIndex - 1 + 100));
    }
  });

  it("reads about a block of rows for a deep page, not every resource before it", async () => {
    const tenant = await createTenant();
    await kind.seed(tenant.id);
    const counting = countingEnv(env);
    const deep = await send(counting, new Request(`${tenant.baseUrl}/${kind.endpoint}?startIndex=2901&count=100&excludedAttributes=${kind.exclude}`, {
      headers: { Authorization: `Bearer ${tenant.token}` },
    }));
    expect(deep.response.status).toBe(200);
    expect((await deep.response.json<ListJson<unknown>>()).Resources).toHaveLength(100);
    const pageStatement = deep.statements.find((s) => new RegExp(`from "${kind.table}"`, "i").test(s.sql) && /limit/i.test(s.sql));
    const context = JSON.stringify(pageStatement);
    expect(pageStatement?.rowsRead, context).toBeDefined();
    // A walk would read about 3,000 rows; the seek reads the block counts, at most a block, and the page.
    expect(pageStatement?.rowsRead ?? Infinity, context).toBeLessThan(1024 + 100 + 50);
  });
});
