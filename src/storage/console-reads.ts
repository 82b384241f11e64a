/**
 * What the tenant admin console reads. Every query is bounded: pages of at most a few dozen
 * rows, and the user search walks a window of at most USER_SEARCH_WINDOW users per page
 * (instr() on the key columns, never a LIKE pattern: D1 caps those at 50 bytes), so one page
 * never reads the whole tenant however large it is.
 */
import { and, desc, eq, gt, gte, inArray, lt, sql } from "drizzle-orm";
import { type AuthFailureSummary, authFailureSummary } from "./auth-failures";
import type { Database } from "./database";
import { groupRoleSourcesJson, groupRoleValuesJson } from "./role-sql";
import { rolesOf } from "./effective-roles";
import { tenantRolesQuery } from "./roles";
import type { EffectiveRoles } from "../scim/roles";
import { groupSummary } from "./directory";
import { qualified } from "./qualified";
import { authFailures, groupMembers, groups, requestLog, tenants, userEmails, users } from "./schema";
import { HEALTH_WINDOW, type TenantRow } from "./tenants";

export interface LoggedRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  status: number;
  scimType: string | null;
  detail: string | null;
  userAgent: string | null;
  durationMs: number;
}

/** The tenant, its failed authentications and its newest log rows (health), in one round trip. */
export async function readOverview(
  db: Database,
  tenantId: string,
): Promise<{ tenant: TenantRow; authFailures: AuthFailureSummary; recent: LoggedRequest[] } | undefined> {
  const [tenantRows, failureRows, recent] = await db.batch([
    db.select().from(tenants).where(eq(tenants.id, tenantId)),
    db.select().from(authFailures).where(eq(authFailures.tenantId, tenantId)),
    db.select().from(requestLog).where(eq(requestLog.tenantId, tenantId)).orderBy(desc(requestLog.seq)).limit(HEALTH_WINDOW),
  ]);
  const tenant = tenantRows[0];
  return tenant && { tenant, authFailures: authFailureSummary(failureRows[0]), recent };
}

/** A page of the log before a cursor, newest first; failures only through a partial index (migrations/0014). */
export async function readLogPage(db: Database, tenantId: string, before: number, limit: number, failuresOnly: boolean): Promise<LoggedRequest[]> {
  return db
    .select()
    .from(requestLog)
    .where(and(eq(requestLog.tenantId, tenantId), lt(requestLog.seq, before), failuresOnly ? gte(requestLog.status, 400) : undefined))
    .orderBy(desc(requestLog.seq))
    .limit(limit);
}

/** Users one search page walks at most; the page says when it stopped there. */
export const USER_SEARCH_WINDOW = 2000;
/** Groups shown per user on a page, in all: a user in thousands of groups must not blow up a page. */
const GROUP_ROWS_PER_PAGE = 2000;

export interface UserSearch {
  /** Lower-cased text matched in userName, displayName or any email. */
  text: string;
  status: "any" | "active" | "inactive";
  notInAnyGroup: boolean;
  after: number;
  limit: number;
}

export interface ListedUser {
  seq: number;
  id: string;
  userName: string;
  displayName: string | null;
  active: boolean;
  emailsJson: string | null;
  groups: { id: string; displayName: string }[];
  /** The user's effective roles (issue 12), as the operator API's directory shows them. */
  roles: EffectiveRoles;
}

export interface UserSearchPage {
  users: ListedUser[];
  /** Continue after this seq; null when the tenant's users are exhausted. */
  next: number | null;
}

export async function searchUsers(db: Database, tenantId: string, search: UserSearch): Promise<UserSearchPage> {
  const window = db
    .select({ seq: users.seq, id: users.id, userName: users.userName, displayName: users.displayName, active: users.active })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), gt(users.seq, search.after)))
    .orderBy(users.seq)
    .limit(USER_SEARCH_WINDOW)
    .as("w");
  // A window column by its qualified name, for the correlated subqueries below.
  const inWindow = (column: "id" | "seq") => sql.raw(`"w"."${column}"`);
  const text = search.text;
  // INDEXED BY: left to itself SQLite reads the covering primary key (tenant_id, value_key, …)
  // by tenant alone, every email of the tenant for every user of the window (10 million rows
  // read for 2,000 users of 2,500); user_emails_user reaches the user's own few emails.
  const matches = [
    text
      ? sql`(instr(lower(${window.userName}), ${text}) > 0 OR instr(lower(coalesce(${window.displayName}, '')), ${text}) > 0 OR EXISTS (SELECT 1 FROM ${userEmails} INDEXED BY ${sql.raw("user_emails_user")} WHERE ${qualified(userEmails.tenantId)} = ${tenantId} AND ${qualified(userEmails.userId)} = ${inWindow("id")} AND instr(${qualified(userEmails.valueKey)}, ${text}) > 0))`
      : undefined,
    search.status === "any" ? undefined : sql`${window.active} = ${search.status === "active" ? 1 : 0}`,
    search.notInAnyGroup
      ? sql`NOT EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${qualified(groupMembers.tenantId)} = ${tenantId} AND ${qualified(groupMembers.memberId)} = ${inWindow("id")})`
      : undefined,
  ];
  // Only the page's own rows parse their document, for the few fields shown.
  // The paths are constants of this file, written into the SQL text. Drizzle renders columns
  // unqualified here, so the inner table gets its own alias and the window is named explicitly:
  // an unqualified `seq = seq` would compare the inner row with itself and read another user.
  const docField = (path: "$.userType" | "$.roles" | "$.emails") =>
    sql<string | null>`(SELECT json_extract(${sql.raw("d.doc")}, ${sql.raw(`'${path}'`)}) FROM ${users} AS ${sql.raw("d")} WHERE ${sql.raw("d.tenant_id")} = ${tenantId} AND ${sql.raw("d.seq")} = ${inWindow("seq")})`;
  const [rows, extent, catalogRows] = await db.batch([
    db
      .select({
        seq: window.seq,
        id: window.id,
        userName: window.userName,
        displayName: window.displayName,
        active: sql<number>`${window.active}`,
        userType: docField("$.userType"),
        rolesJson: docField("$.roles"),
        emailsJson: docField("$.emails"),
        groupRoleSources: groupRoleSourcesJson(tenantId, inWindow("id")),
        groupRoleValues: groupRoleValuesJson(tenantId, inWindow("id")),
      })
      .from(window)
      .where(and(...matches))
      .orderBy(window.seq)
      .limit(search.limit),
    db.select({ last: sql<number | null>`max(${window.seq})`, walked: sql<number>`count(*)` }).from(window),
    tenantRolesQuery(db, tenantId),
  ]);
  const walked = extent[0]?.walked ?? 0;
  const next = rows.length === search.limit ? (rows.at(-1)?.seq ?? null) : walked === USER_SEARCH_WINDOW ? (extent[0]?.last ?? null) : null;
  const groupsOf = await groupsOfUsers(db, tenantId, rows.map((r) => r.id));
  return {
    users: rows.map(({ userType, rolesJson, groupRoleSources, groupRoleValues, ...r }) => {
      const active = r.active === 1;
      // Only the two fields effective roles read from the document (userType and roles).
      const doc = { userType: userType ?? undefined, roles: parsedJsonArray(rolesJson) };
      const roles = rolesOf({ groupRoleSources, groupRoleValues, active, doc }, catalogRows);
      return { ...r, active, groups: groupsOf.get(r.id) ?? [], roles };
    }),
    next,
  };
}

function parsedJsonArray(text: string | null): unknown[] | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function groupsOfUsers(db: Database, tenantId: string, userIds: string[]): Promise<Map<string, { id: string; displayName: string }[]>> {
  const byUser = new Map<string, { id: string; displayName: string }[]>();
  if (userIds.length === 0) return byUser;
  const rows = await db
    .select({ userId: groupMembers.memberId, id: groups.id, displayName: groups.displayName })
    .from(groupMembers)
    .innerJoin(groups, and(eq(groups.tenantId, groupMembers.tenantId), eq(groups.id, groupMembers.groupId)))
    .where(and(eq(groupMembers.tenantId, tenantId), inArray(groupMembers.memberId, userIds)))
    .limit(GROUP_ROWS_PER_PAGE);
  for (const row of rows) {
    const list = byUser.get(row.userId) ?? [];
    list.push({ id: row.id, displayName: row.displayName });
    byUser.set(row.userId, list);
  }
  return byUser;
}

export interface GroupDetail {
  id: string;
  displayName: string;
  externalId: string | null;
  role: string | null;
  domains: string[];
  memberCount: number;
  lastModified: string;
}

export interface MemberRow {
  memberId: string;
  memberType: "User" | "Group";
  userName: string | null;
  displayName: string | null;
  active: boolean | null;
}

/** The group and a page of its members after a member id (keyset over the primary key), one round trip. */
const { seq: _seq, ...groupDetailColumns } = groupSummary;

export async function readGroupWithMembers(
  db: Database,
  tenantId: string,
  groupId: string,
  after: string,
  limit: number,
): Promise<{ group: GroupDetail; members: MemberRow[] } | undefined> {
  const [groupRows, members] = await db.batch([
    db
      .select(groupDetailColumns)
      .from(groups)
      .where(and(eq(groups.tenantId, tenantId), eq(groups.id, groupId))),
    db
      .select({
        memberId: groupMembers.memberId,
        memberType: groupMembers.memberType,
        userName: users.userName,
        displayName: users.displayName,
        active: users.active,
      })
      .from(groupMembers)
      .leftJoin(users, and(eq(users.tenantId, groupMembers.tenantId), eq(users.id, groupMembers.memberId)))
      .where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.groupId, groupId), gt(groupMembers.memberId, after)))
      .orderBy(groupMembers.memberId)
      .limit(limit),
  ]);
  const group = groupRows[0];
  return group && { group, members };
}
