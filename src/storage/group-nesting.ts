/**
 * Nested groups (RFC 7643 §4.2: a group's members are users or groups). A membership is one
 * group_members row whatever the member; `member_type` says which. What nesting costs is
 * bounded on both sides:
 * - writes keep every chain of groups at most MAX_NESTING_DEPTH groups long and cycle-free,
 *   checked by guards in the write's own batch (group writes of a tenant are serialised by
 *   its Durable Object, so nothing changes the nesting between the check and the write);
 * - reads walk a member's groups upward with a recursive CTE inside the same statement (no
 *   extra round trip), at most MAX_NESTING_DEPTH levels and NESTING_WALK_ROWS rows.
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "./database";
import { qualified } from "./qualified";
import { events, groupMembers, groups, users } from "./schema";
import type { Precondition, TenantDb } from "./tenant-db";

/**
 * The most groups in one chain, from a user's direct group up to the outermost group: a
 * user's indirect memberships are found within this many levels, and a membership that
 * would make a longer chain is refused (400 invalidValue).
 */
export const MAX_NESTING_DEPTH = 8;
/**
 * The most rows one walk of the nesting reads (a row is a group reached at a level; SQLite
 * reads one index entry per row). A write whose check would need more is refused; a read
 * lists what the walk reached.
 */
export const NESTING_WALK_ROWS = 1000;

const DEPTH = sql.raw(String(MAX_NESTING_DEPTH));
const WALK_LIMIT = sql.raw(String(NESTING_WALK_ROWS));
/** One row past the limit: a walk that returns it was cut short. */
const WALK_PROBE = sql.raw(String(NESTING_WALK_ROWS + 1));

/**
 * The groups `memberId` is in, directly (`depth` 1) and through nesting, as a subquery with
 * columns "id" and "depth" (the shortest level at which the group was reached). `tenantId`
 * and `memberId` are SQL: a correlated column of the outer query, or a bound value. The walk
 * is breadth-first (SQLite's queue), so the direct groups come first; `directLimit` keeps
 * only the first direct groups by id (a user's listed `groups`). Cycles cannot exist (writes
 * refuse them) and UNION plus the depth limit would end one anyway. CROSS JOIN keeps the
 * walk's rows the outer loop (SQLite never reorders it), so each step is an index SEARCH by
 * member id, never a walk of the tenant's memberships.
 */
export function memberGroupsWalk(tenantId: SQL, memberId: SQL, directLimit?: number): SQL {
  const direct = sql`SELECT "direct"."group_id", 1 FROM ${groupMembers} AS "direct" WHERE "direct"."tenant_id" = ${tenantId} AND "direct"."member_id" = ${memberId}`;
  const seed =
    directLimit === undefined ? direct : sql`SELECT * FROM (${direct} ORDER BY "direct"."group_id" LIMIT ${sql.raw(String(directLimit))})`;
  return groupsWalkFrom(tenantId, seed);
}

/**
 * The walk of memberGroupsWalk from any seed: `seed` selects (group id, 1) rows, the groups a
 * member is directly in. Effective roles seed it with a membership a write is about to change
 * (storage/role-sql.ts), so before/after are computed over the same bounded walk.
 */
export function groupsWalkFrom(tenantId: SQL, seed: SQL): SQL {
  return sql`WITH RECURSIVE "reach"("id", "depth") AS (${seed} UNION SELECT "parent"."group_id", "reach"."depth" + 1 FROM "reach" CROSS JOIN ${groupMembers} AS "parent" ON "parent"."tenant_id" = ${tenantId} AND "parent"."member_id" = "reach"."id" WHERE "reach"."depth" < ${DEPTH} LIMIT ${WALK_LIMIT}) SELECT "id", min("depth") AS "depth" FROM "reach" GROUP BY "id"`;
}

/** A user's group ids, direct and indirect, in one statement (bounded as memberGroupsWalk). */
export function selectUserGroupIdsQuery(db: Database, tenantId: string, userId: string) {
  return db
    .select({
      id: sql<string>`"walk"."id"`,
      type: sql<"direct" | "indirect">`CASE WHEN "walk"."depth" = 1 THEN 'direct' ELSE 'indirect' END`,
    })
    .from(sql`(${memberGroupsWalk(sql`${tenantId}`, sql`${userId}`)}) AS "walk"`)
    .orderBy(sql`"walk"."depth" > 1`, sql`"walk"."id"`);
}

export interface UserGroupId {
  id: string;
  type: "direct" | "indirect";
}

/**
 * The ids of every group a user is in, directly or through nested groups (direct ones first,
 * then by id): one D1 round trip, at most NESTING_WALK_ROWS memberships walked and
 * MAX_NESTING_DEPTH levels. For whatever derives from membership (effective roles).
 */
export async function readUserGroupIds(tdb: TenantDb, userId: string): Promise<UserGroupId[]> {
  const { results } = await tdb.read([selectUserGroupIdsQuery(tdb.db, tdb.tenantId, userId)] as const);
  return results[0];
}

/**
 * The ids of a JSON array that are groups of the tenant, as a subquery with column "id". A user
 * id (the usual member) is told apart by its users row, found by primary key; only the other
 * ids are looked up among the groups, so a write adding users reads the same rows whatever
 * the tenant's groups.
 */
export function addedGroupIds(tenantId: string, idsJson: string): SQL {
  const isUser = sql`EXISTS (SELECT 1 FROM ${users} AS "added_user" WHERE "added_user"."tenant_id" = ${tenantId} AND "added_user"."id" = "added"."value")`;
  const isGroup = sql`EXISTS (SELECT 1 FROM ${groups} AS "added_group" WHERE "added_group"."tenant_id" = ${tenantId} AND "added_group"."id" = "added"."value")`;
  return sql`SELECT "added"."value" AS "id" FROM json_each(${idsJson}) AS "added" WHERE NOT ${isUser} AND ${isGroup}`;
}

/**
 * Guards for adding `added` (ids, users or groups) to group `groupId`, evaluated before the
 * write's statements. Only ids that are groups matter; with none, nothing is walked.
 * - noCycle: no added group is `groupId` or one of its ancestors (the walk up from it);
 * - nestingBounded: the longest chain through the new memberships (levels above `groupId`,
 *   itself included, plus levels below each added group, itself included) stays within
 *   MAX_NESTING_DEPTH, and neither walk was cut at NESTING_WALK_ROWS (a check that did not
 *   see everything refuses rather than guesses).
 * Each id list is bound as one JSON parameter, whatever its length.
 */
export function nestingPreconditions(tenantId: string, groupId: string, added: readonly string[]): Precondition[] {
  if (added.length === 0) return [];
  const ids = JSON.stringify(added);
  const addedGroups = addedGroupIds(tenantId, ids);
  const up = sql`"up"("id", "depth") AS (SELECT ${groupId}, 1 UNION SELECT "parent"."group_id", "up"."depth" + 1 FROM "up" CROSS JOIN ${groupMembers} AS "parent" ON "parent"."tenant_id" = ${tenantId} AND "parent"."member_id" = "up"."id" WHERE "up"."depth" <= ${DEPTH} LIMIT ${WALK_PROBE})`;
  // member_type = 'Group' as a literal: SQLite then reads the partial index group_members_subgroups.
  const down = sql`"down"("id", "depth") AS (SELECT "id", 1 FROM (${addedGroups}) UNION SELECT "child"."member_id", "down"."depth" + 1 FROM "down" CROSS JOIN ${groupMembers} AS "child" ON "child"."tenant_id" = ${tenantId} AND "child"."group_id" = "down"."id" AND "child"."member_type" = 'Group' WHERE "down"."depth" <= ${DEPTH} LIMIT ${WALK_PROBE})`;
  const onlyWithGroups = (check: SQL) => sql`CASE WHEN NOT EXISTS (${addedGroups}) THEN 1 ELSE (${check}) END`;
  return [
    {
      kind: "noCycle",
      holds: onlyWithGroups(sql`WITH RECURSIVE ${up} SELECT NOT EXISTS (SELECT 1 FROM "up" WHERE "up"."id" IN (SELECT "value" FROM json_each(${ids})))`),
    },
    {
      kind: "nestingBounded",
      holds: onlyWithGroups(
        sql`WITH RECURSIVE ${up}, ${down} SELECT (SELECT count(*) FROM "up") <= ${WALK_LIMIT} AND (SELECT count(*) FROM "down") <= ${WALK_LIMIT} AND (SELECT max("depth") FROM "up") + (SELECT max("depth") FROM "down") <= ${DEPTH}`,
      ),
    },
  ];
}

/**
 * A group's parents (the groups that hold it as a member) or a user's groups, when the member
 * is deleted: each of them changed, so its member count, version and lastModified move (an
 * IdP's If-None-Match must not answer 304) and the feed gets a `group.members_changed` with
 * `removed: [memberId]`, for the first MEMBER_LEFT_EVENTS of them by group id. One UPDATE
 * bumps all of them, however many. These read the memberships: they run before they are
 * deleted (`leaveGroupsDelete`).
 */
export const MEMBER_LEFT_EVENTS = 1000;

export function leaveGroupsStatements(db: Database, tenantId: string, memberId: string, now: string): BatchItem<"sqlite">[] {
  const memberships = and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.memberId, memberId));
  const groupEvent = {
    seq: sql<number>`NULL`.as("seq"),
    tenantId: sql<string>`${tenantId}`.as("tenant_id"),
    type: sql<string>`'group.members_changed'`.as("type"),
    resourceType: sql<string>`'Group'`.as("resource_type"),
    resourceId: sql<string>`${groupMembers.groupId}`.as("resource_id"),
    at: sql<string>`${now}`.as("at"),
    data: sql<string>`json_object('replacedAll', json('false'), 'added', json('[]'), 'removed', json_array(${memberId}))`.as("data"),
    // Not yet handed to the webhook queue (src/webhooks/).
    enqueuedAt: sql<string | null>`NULL`.as("enqueued_at"),
  };
  return [
    db
      .update(groups)
      .set({ memberCount: sql`${groups.memberCount} - 1`, version: sql`${groups.version} + 1`, lastModified: now })
      .where(and(eq(groups.tenantId, tenantId), sql`${groups.id} IN (SELECT ${groupMembers.groupId} FROM ${groupMembers} WHERE ${memberships})`)),
    db.insert(events).select(db.select(groupEvent).from(groupMembers).where(memberships).orderBy(groupMembers.groupId).limit(MEMBER_LEFT_EVENTS)),
  ];
}

/**
 * A member change of `groupId` changes, in effect, every group it is nested in (RFC 7643 §4.2:
 * their members include it members' members). One `group.members_changed` per such ancestor,
 * with `data: {via: groupId, change: <groupId's own change data>}`, found by the bounded walk up
 * (MAX_NESTING_DEPTH levels, NESTING_WALK_ROWS rows), when `happens`; a group nested nowhere
 * costs one index probe. The ancestors' versions do not move: their own members did not change.
 */
export function ancestorsMembersChangedInsert(db: Database, tenantId: string, groupId: string, change: { data: SQL; happens: SQL }, now: string) {
  const up = memberGroupsWalk(sql`${tenantId}`, sql`${groupId}`);
  return db
    .insert(events)
    .select(
      sql`SELECT NULL, ${tenantId}, 'group.members_changed', 'Group', "up"."id", ${now}, json_object('via', ${groupId}, 'change', json(${change.data})), NULL FROM (${up}) AS "up" WHERE ${change.happens}`,
    );
}

/** Deletes every membership of `memberId` (after leaveGroupsStatements). */
export function leaveGroupsDelete(db: Database, tenantId: string, memberId: string) {
  return db.delete(groupMembers).where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.memberId, memberId)));
}

/** How many groups `memberId` is a direct member of, as SQL (the `groupsLeft` of user.deleted). */
export function directGroupCount(tenantId: string, memberId: string): SQL<number> {
  return sql<number>`(SELECT count(*) FROM ${groupMembers} WHERE ${qualified(groupMembers.tenantId)} = ${tenantId} AND ${qualified(groupMembers.memberId)} = ${memberId})`;
}
