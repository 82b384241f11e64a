/**
 * Attaches users seeded by ./seed.ts as members of a group that already exists (one created
 * over HTTP, so its row, counters and event are the server's own): one set-based INSERT into
 * group_members through a recursive CTE (100,000 rows in a fraction of a second), then
 * groups.member_count recomputed from the rows. The tenant's user_count / group_count are
 * already right: seedUsers added the users, POST /Groups added the group.
 *
 * Like seed.ts, the statements go through the counting D1 proxy, so they obey D1's
 * 100-parameter limit too (each binds 6 or fewer).
 */
import { countingEnv } from "./counting-env";
import { shardOf } from "./shards";
import type { Seeded } from "./seed";

/** seed.ts's user ids are a per-call prefix plus the user's number as 12 hex digits. */
function userIdPrefix(seeded: Seeded): string {
  const prefix = seeded.userId(1).slice(0, -12);
  for (const i of [1, 255, seeded.users]) {
    if (seeded.userId(i) !== `${prefix}${i.toString(16).padStart(12, "0")}`) {
      throw new Error(`seed.ts changed its id scheme: userId(${i}) = ${seeded.userId(i)}`);
    }
  }
  return prefix;
}

/** Makes seeded users first..last (inclusive, seed.ts numbering) members of `groupId`; returns the group's member_count. */
export async function attachSeededMembers(env: Cloudflare.Env, seeded: Seeded, groupId: string, first: number, last: number): Promise<number> {
  if (first < 1 || last > seeded.users || first > last) throw new Error(`attachSeededMembers: ${first}..${last} is outside 1..${seeded.users}`);
  const tenantId = seeded.tenantId;
  const db = await shardOf(tenantId, countingEnv(env).env);
  const [, , counted] = await db.batch<{ n: number }>([
    db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
         SELECT ?, ?, ? || printf('%012x', i), 'User' FROM n
         WHERE true ON CONFLICT DO NOTHING`,
      )
      .bind(first, last, tenantId, groupId, userIdPrefix(seeded)),
    db
      .prepare(
        `UPDATE groups SET member_count = (
           SELECT count(*) FROM group_members m WHERE m.tenant_id = groups.tenant_id AND m.group_id = groups.id)
         WHERE tenant_id = ? AND id = ?`,
      )
      .bind(tenantId, groupId),
    db.prepare("SELECT member_count AS n FROM groups WHERE tenant_id = ? AND id = ?").bind(tenantId, groupId),
  ]);
  const count = counted?.results[0]?.n;
  if (count === undefined) throw new Error(`attachSeededMembers: no group ${groupId} in tenant ${tenantId}`);
  return count;
}
