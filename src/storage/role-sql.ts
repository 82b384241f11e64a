/**
 * Roles in SQL (issue 12): the catalog match of scim/roles.ts (id first, else displayName,
 * ASCII case-insensitive, the tenant's own role first), a user's group roles, its effective
 * role set, and the set-based `user.roles_changed` event inserts that ride in a change's own
 * batch. One statement per change whatever the number of users it touches: D1's batch()
 * cannot branch, so "did this user's effective roles change" is a WHERE of an INSERT … SELECT.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "./database";
import { qualified } from "./qualified";
import { groupsWalkFrom } from "./group-nesting";
import { ALL_TENANTS } from "./roles";
import { catalogRoles, events, groupMembers, groups, users } from "./schema";

/**
 * Sources of a user's roles listed per group at most this many groups (by group id): one JSON
 * value stays far under D1's 2 MB. The effective set still counts every group (GROUP_ROLES_DISTINCT).
 */
export const GROUP_ROLE_SOURCES = 1000;
/** Distinct group role values read per user: a group role is one of the tenant's few role values. */
const GROUP_ROLES_DISTINCT = 1000;

const scopes = (tenantId: string) => sql`(${ALL_TENANTS}, ${tenantId})`;

/** The catalog role id a value names, or NULL: the rule of scim/roles.ts matchCatalog. */
export function resolveRoleSql(tenantId: string, value: SQL): SQL {
  const byId = sql`(SELECT "r"."id" FROM ${catalogRoles} AS "r" WHERE "r"."tenant_id" IN ${scopes(tenantId)} AND "r"."id" = ${value} LIMIT 1)`;
  // A deployment role the tenant shadows (same id) is matched by the tenant's displayName only.
  const byName = sql`(SELECT "r"."id" FROM ${catalogRoles} AS "r" WHERE "r"."tenant_id" IN ${scopes(tenantId)} AND lower("r"."display_name") = lower(${value}) AND NOT ("r"."tenant_id" = ${ALL_TENANTS} AND EXISTS (SELECT 1 FROM ${catalogRoles} AS "s" WHERE "s"."tenant_id" = ${tenantId} AND "s"."id" = "r"."id")) ORDER BY "r"."tenant_id" = ${ALL_TENANTS}, "r"."id" LIMIT 1)`;
  return sql`coalesce(${byId}, ${byName})`;
}

/**
 * A change to one group evaluated before it is written: its new role (the operator's edit),
 * or whether the user is a member once the change is applied (`isMember`, SQL over the user).
 */
export type GroupOverride = { groupId: string; role: string | null } | { groupId: string; isMember: SQL };

/**
 * The one place a user's group roles come from: every group the user is in, directly or
 * through nested groups (issue 13), with its role, over the bounded walk of group-nesting.ts
 * (MAX_NESTING_DEPTH levels, NESTING_WALK_ROWS memberships). An override evaluates a change
 * before it is written: a group's new role, or the user's direct membership of one group as
 * the change leaves it (that group's own parents are then walked too).
 */
export function groupRolesForUsers(tenantId: string, userId: SQL, override?: GroupOverride): SQL {
  const role =
    override && "role" in override
      ? sql`CASE WHEN ${qualified(groups.id)} = ${override.groupId} THEN ${override.role} ELSE ${qualified(groups.role)} END`
      : qualified(groups.role);
  const direct = sql`SELECT "direct"."group_id", 1 FROM ${groupMembers} AS "direct" WHERE "direct"."tenant_id" = ${tenantId} AND "direct"."member_id" = ${userId}`;
  const seed =
    override && "isMember" in override
      ? sql`${direct} AND "direct"."group_id" <> ${override.groupId} UNION SELECT ${override.groupId}, 1 WHERE ${override.isMember}`
      : direct;
  // CROSS JOIN: the walk drives, each group found by primary key (see storage/users.ts groupsJson).
  return sql`SELECT ${qualified(groups.id)} AS "group_id", ${role} AS "role" FROM (${groupsWalkFrom(sql`${tenantId}`, seed)}) AS "walk" CROSS JOIN ${groups} ON ${qualified(groups.tenantId)} = ${tenantId} AND ${qualified(groups.id)} = "walk"."id"`;
}

/** Per group (at most GROUP_ROLE_SOURCES) `[{groupId, role}]`, as JSON text, for a read. */
export function groupRoleSourcesJson(tenantId: string, userId: SQL): SQL<string> {
  return sql<string>`(SELECT json_group_array(json_object('groupId', "gr"."group_id", 'role', "gr"."role")) FROM (SELECT * FROM (${groupRolesForUsers(tenantId, userId)}) WHERE "role" IS NOT NULL ORDER BY "group_id" LIMIT ${sql.raw(String(GROUP_ROLE_SOURCES))}) AS "gr")`;
}

/** The distinct role values of all the user's groups, as JSON text, for a read. */
export function groupRoleValuesJson(tenantId: string, userId: SQL): SQL<string> {
  return sql<string>`(SELECT json_group_array("role") FROM (SELECT DISTINCT "role" FROM (${groupRolesForUsers(tenantId, userId)}) WHERE "role" IS NOT NULL ORDER BY "role" LIMIT ${sql.raw(String(GROUP_ROLES_DISTINCT))}))`;
}

/**
 * The effective role ids (sorted JSON array text) of a user whose role values are the JSON
 * array `roleValues` and whose activity is `active`: '[]' when inactive.
 */
export function effectiveRoleSetSql(
  tenantId: string,
  user: { id: SQL; roleValues: SQL; active: SQL },
  override?: GroupOverride,
): SQL<string> {
  const own = sql`SELECT ${resolveRoleSql(tenantId, sql`"v"."value"`)} AS "rid" FROM json_each(${user.roleValues}) AS "v"`;
  const fromGroups = sql`SELECT ${resolveRoleSql(tenantId, sql`"g"."role"`)} AS "rid" FROM (SELECT DISTINCT "role" FROM (${groupRolesForUsers(tenantId, user.id, override)}) WHERE "role" IS NOT NULL) AS "g"`;
  return sql<string>`CASE WHEN ${user.active} THEN (SELECT json_group_array("rid") FROM (SELECT DISTINCT "rid" FROM (${own} UNION ALL ${fromGroups}) WHERE "rid" IS NOT NULL ORDER BY "rid")) ELSE '[]' END`;
}

/** An events row (in the table's column order) from a "change" row with before/after, where they differ. */
function rolesChangedRows(tenantId: string, userId: SQL, changes: SQL, now: string, cause: SQL): SQL {
  return sql`SELECT NULL, ${tenantId}, 'user.roles_changed', 'User', ${userId}, ${now}, json_object('before', json("change"."before"), 'after', json("change"."after"), 'cause', ${cause}), NULL FROM (${changes}) AS "change" WHERE "change"."before" <> "change"."after"`;
}

/**
 * `user.roles_changed` for a user write (POST, PUT, PATCH), when the effective set changes.
 * Runs before the user's row is written, so `before` reads the stored values (none for a
 * create, whose user has no groups yet either).
 */
export function userWriteRolesChangedInsert(
  db: Database,
  tenantId: string,
  userId: string,
  written: { roleValues: string[]; active: boolean },
  now: string,
  isCreate: boolean,
) {
  const id = sql`${userId}`;
  const after = effectiveRoleSetSql(tenantId, { id, roleValues: sql`${JSON.stringify(written.roleValues)}`, active: sql`${written.active ? 1 : 0}` });
  const before = isCreate
    ? sql`'[]'`
    : effectiveRoleSetSql(tenantId, { id, roleValues: qualified(users.roleValues), active: qualified(users.active) });
  const source = isCreate
    ? sql`(SELECT 1) AS "one"`
    : sql`${users} WHERE ${qualified(users.tenantId)} = ${tenantId} AND ${qualified(users.id)} = ${userId}`;
  const changes = sql`SELECT ${before} AS "before", ${after} AS "after" FROM ${source}`;
  return db.insert(events).select(rolesChangedRows(tenantId, id, changes, now, sql`json_object('kind', 'user')`));
}

/**
 * `user.roles_changed` for every member of a group whose effective set the group's new role
 * changes (the operator's edit), in one INSERT … SELECT before the group's row is updated:
 * one statement for a group of 100,000 members, reading each member's small role_values
 * column and memberships through indexes, never a document; inactive members never change.
 */
export function groupRoleRolesChangedInsert(db: Database, tenantId: string, groupId: string, newRole: string | null, now: string) {
  const member = { id: qualified(users.id), roleValues: qualified(users.roleValues), active: qualified(users.active) };
  const before = effectiveRoleSetSql(tenantId, member);
  const after = effectiveRoleSetSql(tenantId, member, { groupId, role: newRole });
  const changes = sql`SELECT ${qualified(users.id)} AS "user_id", ${before} AS "before", ${after} AS "after" FROM ${groupMembers} CROSS JOIN ${users} ON ${qualified(users.tenantId)} = ${qualified(groupMembers.tenantId)} AND ${qualified(users.id)} = ${qualified(groupMembers.memberId)} WHERE ${qualified(groupMembers.tenantId)} = ${tenantId} AND ${qualified(groupMembers.groupId)} = ${groupId} AND ${qualified(users.active)} = 1`;
  const cause = sql`json_object('kind', 'group.role', 'groupId', ${groupId})`;
  return db.insert(events).select(rolesChangedRows(tenantId, sql`"change"."user_id"`, changes, now, cause));
}

/**
 * `user.roles_changed` for the users a membership change touches (a group create with
 * members, a PATCH or PUT of members, a group delete): the named ids, and for a replace of all
 * members (or a delete) every current member. Evaluated before the member statements, with
 * the membership each user has once they ran (adds run after removes, storage/groups.ts), in
 * one INSERT … SELECT; nothing to do when neither the group nor a group it is nested in has a
 * role. Inactive users never change.
 */
export function membershipRolesChangedInsert(
  db: Database,
  tenantId: string,
  groupId: string,
  changes: { clear: boolean; add: string[]; remove: string[] },
  now: string,
) {
  const added = JSON.stringify(changes.add);
  const removed = JSON.stringify(changes.remove);
  const currentMember = sql`EXISTS (SELECT 1 FROM ${groupMembers} AS "cm" WHERE "cm"."tenant_id" = ${tenantId} AND "cm"."group_id" = ${groupId} AND "cm"."member_id" = ${qualified(users.id)})`;
  const inList = (list: string) => sql`${qualified(users.id)} IN (SELECT "value" FROM json_each(${list}))`;
  const isMember = changes.clear
    ? inList(added)
    : sql`(${inList(added)} OR (NOT ${inList(removed)} AND ${currentMember}))`;
  const member = { id: qualified(users.id), roleValues: qualified(users.roleValues), active: qualified(users.active) };
  const before = effectiveRoleSetSql(tenantId, member);
  const after = effectiveRoleSetSql(tenantId, member, { groupId, isMember });
  const named = sql`SELECT "value" FROM json_each(${added}) UNION SELECT "value" FROM json_each(${removed})`;
  const affected = changes.clear
    ? sql`${named} UNION SELECT "am"."member_id" FROM ${groupMembers} AS "am" WHERE "am"."tenant_id" = ${tenantId} AND "am"."group_id" = ${groupId}`
    : named;
  // The group or a group it is nested in (whose role its members inherit) has a role.
  const withAncestors = groupsWalkFrom(sql`${tenantId}`, sql`SELECT ${groupId}, 1`);
  const hasRole = sql`EXISTS (SELECT 1 FROM (${withAncestors}) AS "up" CROSS JOIN ${groups} AS "rg" ON "rg"."tenant_id" = ${tenantId} AND "rg"."id" = "up"."id" WHERE "rg"."role" IS NOT NULL)`;
  // hasRole as a one-row gate joined first: evaluated once, and a change to a group that no
  // role reaches reads no member at all (a WHERE term would re-walk the nesting per member).
  const changesSql = sql`SELECT ${qualified(users.id)} AS "user_id", ${before} AS "before", ${after} AS "after" FROM (SELECT 1 WHERE ${hasRole}) AS "gate" CROSS JOIN ${users} WHERE ${qualified(users.tenantId)} = ${tenantId} AND ${qualified(users.id)} IN (${affected}) AND ${qualified(users.active)} = 1`;
  const cause = sql`json_object('kind', 'group.members', 'groupId', ${groupId})`;
  return db.insert(events).select(rolesChangedRows(tenantId, sql`"change"."user_id"`, changesSql, now, cause));
}
