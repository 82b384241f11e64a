/**
 * A user's `groups` is read-only and computed from memberships (RFC 7643 §4.1.2). Built as one
 * JSON value, it passed D1's 2 MB value limit for a user in a few thousand groups with long
 * names (a code review found `GET /Users/{id}` failing at 2,800 groups of 250 CJK characters).
 * It now lists at most USER_GROUPS_LISTED groups, each `display` cut, so the value, the row
 * and a list page stay under D1's limits, which the counting env enforces (support/d1-limits.ts).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { USER_GROUPS_LISTED } from "../src/storage/users";
import { countingEnv, send } from "./support/counting-env";
import { createTenant, SCIM_JSON, type TestTenant } from "./support/http";
import { seedUsers } from "./support/seed";
import { shardOf } from "./support/shards";

const counting = countingEnv(env);
const GROUPS = 3_000;
/** 250 characters of 3 bytes each: 750 bytes of name per group. */
const LONG_NAME = "組".repeat(250);

/** GROUPS groups, every one with all `users` seeded users as members, written in set-based SQL. */
async function userInManyGroups(tenant: TestTenant, users: number) {
  const seeded = await seedUsers(env, tenant.id, { users });
  const now = new Date().toISOString();
  await (await shardOf(tenant.id)).prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO groups (tenant_id, id, display_name, display_name_key, created_at, last_modified, doc)
     SELECT ?, printf('g-%06d', i), ? || i, ? || i, ?, ?, '{}' FROM n`,
  )
    .bind(GROUPS, tenant.id, LONG_NAME, LONG_NAME, now, now)
    .run();
  const ids = Array.from({ length: users }, (_, i) => seeded.userId(i + 1));
  for (const id of ids) {
    await (await shardOf(tenant.id)).prepare(
      `INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
       SELECT tenant_id, id, ?, 'User' FROM groups WHERE tenant_id = ?`,
    )
      .bind(id, tenant.id)
      .run();
  }
  return ids;
}

describe("a user's groups", () => {
  it(`lists at most ${USER_GROUPS_LISTED} groups with short displays, so a user in ${GROUPS} long-named groups reads under D1's limits`, async () => {
    const tenant = await createTenant();
    const [userId] = await userInManyGroups(tenant, 1);
    const sent = await send(counting, new Request(`${tenant.baseUrl}/Users/${userId}`, { headers: { Authorization: `Bearer ${tenant.token}` } }));
    const body = await sent.response.json<{ groups: { value: string; display: string }[] }>();
    expect(sent.response.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(body.groups).toHaveLength(USER_GROUPS_LISTED);
    // In group id order, so the walk of the member index stops at the limit.
    expect(body.groups.map((g) => g.value)).toEqual(Array.from({ length: USER_GROUPS_LISTED }, (_, i) => `g-${String(i + 1).padStart(6, "0")}`));
    for (const group of body.groups) expect([...group.display].length).toBeLessThanOrEqual(48);
    expect(counting.violations).toEqual([]);
  });

  it("keeps a list page of such users, groups included, under D1's 50 MB result and 2 MB value limits", async () => {
    const tenant = await createTenant();
    await userInManyGroups(tenant, 3);
    const sent = await send(
      counting,
      new Request(`${tenant.baseUrl}/Users?count=1000`, { headers: { Authorization: `Bearer ${tenant.token}`, Accept: SCIM_JSON } }),
    );
    const body = await sent.response.json<{ Resources: { groups: unknown[] }[] }>();
    expect(sent.response.status).toBe(200);
    expect(body.Resources.map((u) => u.groups.length)).toEqual([USER_GROUPS_LISTED, USER_GROUPS_LISTED, USER_GROUPS_LISTED]);
    expect(counting.violations).toEqual([]);
  });
});
