/**
 * startIndex paging seeks through per-block user counts instead of walking every earlier user
 * (issue: performance, flat cost). Every page must still equal the plain OFFSET answer.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingEnv, send } from "./support/counting-env";
import { createTenant, scim, type TestTenant } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { seedUsers } from "./support/seed";
import { USER } from "./support/urns";

const SEEDED = 3000;

async function page(tenant: TestTenant, startIndex: number, count = 100): Promise<ListJson<{ id: string }>> {
  const res = await scim(tenant, `/Users?startIndex=${startIndex}&count=${count}&attributes=id`);
  const body = await res.json<ListJson<{ id: string }>>();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

/** The whole tenant in order, through cursor paging (which never uses the block counts). */
async function allIds(tenant: TestTenant): Promise<string[]> {
  const ids: string[] = [];
  let cursor = "";
  for (;;) {
    const res = await scim(tenant, `/Users?count=1000&attributes=id&cursor=${encodeURIComponent(cursor)}`);
    const body = await res.json<ListJson<{ id: string }>>();
    ids.push(...body.Resources.map((u) => u.id));
    if (!body.nextCursor) return ids;
    cursor = body.nextCursor;
  }
}

describe("startIndex paging", () => {
  it("returns exactly the OFFSET pages across block boundaries, after deletes and new users", async () => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: SEEDED });
    // Deletes on both sides of block edges, then users created over HTTP (counted by the create batch).
    for (const i of [1, 500, 1023, 1024, 1025, 1500, 2047, 2048, 2999, 3000]) {
      expect((await scim(tenant, `/Users/${seeded.userId(i)}`, { method: "DELETE" })).status).toBe(204);
    }
    for (let i = 0; i < 5; i++) {
      const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `late-${i}@example.com` } });
      expect(res.status).toBe(201);
    }
    const expected = await allIds(tenant);
    expect(expected.length).toBe(SEEDED - 10 + 5);
    for (const startIndex of [1, 2, 100, 1000, 1015, 1020, 1021, 1022, 1500, 2036, 2040, 2900, expected.length - 3, expected.length, expected.length + 1]) {
      const body = await page(tenant, startIndex);
      expect(body.totalResults, `startIndex ${startIndex}`).toBe(expected.length);
      expect(body.startIndex).toBe(startIndex);
      expect(body.Resources.map((u) => u.id), `startIndex ${startIndex}`).toEqual(expected.slice(startIndex - 1, startIndex - 1 + 100));
    }
  });

  it("reads about a block of rows for a deep page, not every user before it", async () => {
    const tenant = await createTenant();
    await seedUsers(env, tenant.id, { users: SEEDED });
    const counting = countingEnv(env);
    const deep = await send(counting, new Request(`${tenant.baseUrl}/Users?startIndex=2901&count=100&excludedAttributes=groups`, {
      headers: { Authorization: `Bearer ${tenant.token}` },
    }));
    expect(deep.response.status).toBe(200);
    const pageStatement = deep.statements.find((s) => /from "users"/i.test(s.sql) && /limit/i.test(s.sql));
    const context = JSON.stringify(pageStatement);
    expect(pageStatement?.rowsRead, context).toBeDefined();
    // A walk would read about 3,000 rows; the seek reads the block counts, at most a block, and the page.
    expect(pageStatement?.rowsRead ?? Infinity, context).toBeLessThan(1024 + 100 + 50);
  });
});
