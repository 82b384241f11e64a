/**
 * A group's members, read in pages of rows. D1 refuses any string value or row over 2 MB and
 * any result over 50 MB (../shared/PRODUCTION-LIMITS.md): one json_group_array of a group's
 * members passes 2 MB at about 20,000 members, so members are never aggregated into one
 * value. Each statement returns at most MEMBER_PAGE_ROWS + 1 plain rows (the extra row only
 * says whether more follow), in primary-key order (tenant_id, group_id, member_id), and the
 * next page seeks past the last member id (keyset paging: an index SEARCH, no OFFSET walk).
 *
 * Bounds per statement: a row is a member id (36 bytes), its type and its display name cut to
 * MEMBER_DISPLAY_CHARS characters (at most 4 bytes each), so about 4.2 kB at worst and 5,000
 * rows at most about 21 MB, well under 50 MB; typically 100 bytes a row, 0.5 MB a page.
 */
import { and, eq, gt, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Database } from "./database";
import { qualified } from "./qualified";
import { groupMembers, groups, users } from "./schema";
import type { TenantDb } from "./tenant-db";

/** Members per statement. A group of n members is read in ceil(n / MEMBER_PAGE_ROWS) of them. */
export const MEMBER_PAGE_ROWS = 5000;
/** A member's display (its user's displayName or userName, or its group's displayName) is cut to this many characters. */
export const MEMBER_DISPLAY_CHARS = 1024;

export interface MemberRef {
  value: string;
  display: string | null;
  type: "User" | "Group";
}

/** Where a group's member list stands after a page: complete, or to be continued after a member id. */
export interface MemberPage {
  members: MemberRef[];
  /** The last member id read when more members follow; undefined when the list is complete. */
  continueAfter?: string;
}

/** A member that is a group (nested groups, storage/group-nesting.ts), joined under its own name. */
const memberGroup = alias(groups, "member_group");

const memberColumns = {
  value: groupMembers.memberId,
  type: groupMembers.memberType,
  // users.display_name, not json_extract of the document: a page of 5,000 members must not
  // parse 5,000 documents of up to 1 MB each. A user without a displayName shows what the
  // client sent when it added the member, else its userName; a member group, its displayName.
  display: sql<string | null>`substr(coalesce(${qualified(users.displayName)}, "member_group"."display_name", ${qualified(groupMembers.display)}, ${qualified(users.userName)}), 1, ${sql.raw(String(MEMBER_DISPLAY_CHARS))})`,
};

const memberUser = and(eq(users.tenantId, groupMembers.tenantId), eq(users.id, groupMembers.memberId));
const memberIsGroup = and(eq(memberGroup.tenantId, groupMembers.tenantId), eq(memberGroup.id, groupMembers.memberId));

/** One page of one group's members, after `after` (a member id) when given. */
export function memberPageQuery(db: Database, tenantId: string, groupId: string, after?: string) {
  return db
    .select(memberColumns)
    .from(groupMembers)
    .leftJoin(users, memberUser)
    .leftJoin(memberGroup, memberIsGroup)
    .where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.groupId, groupId), after === undefined ? undefined : gt(groupMembers.memberId, after)))
    .orderBy(groupMembers.groupId, groupMembers.memberId)
    .limit(MEMBER_PAGE_ROWS + 1);
}

/**
 * The first page of members of several groups together (a list page's groups, `pageGroups`: a
 * subquery with an `id` column), ordered by group then member: small groups all fit one
 * statement. The page is joined as a table, not `IN (subquery)`: inside an expression SQLite
 * counts the subquery's filter toward the expression depth of 100 again, so a filter that
 * passes on the page (storage/filter-limits.ts) would fail here.
 */
export function membersOfGroupsQuery(db: Database, tenantId: string, pageGroups: SQL) {
  // CROSS JOIN keeps the page's groups the outer loop (SQLite never reorders it), so each
  // group's members are a primary-key SEARCH rather than a walk of the tenant's memberships.
  // The columns are written qualified: drizzle does not see the table inside a raw FROM.
  const pageThenMembers = sql`(${pageGroups}) AS "page_groups" CROSS JOIN ${groupMembers}`;
  const groupId = qualified(groupMembers.groupId);
  const memberId = qualified(groupMembers.memberId);
  return db
    .select({
      groupId: sql<string>`${groupId}`,
      value: sql<string>`${memberId}`,
      type: sql<MemberRef["type"]>`${qualified(groupMembers.memberType)}`,
      display: memberColumns.display,
    })
    .from(pageThenMembers)
    .leftJoin(users, memberUser)
    .leftJoin(memberGroup, memberIsGroup)
    .where(sql`${qualified(groupMembers.tenantId)} = ${tenantId} AND ${groupId} = "page_groups"."id"`)
    .orderBy(groupId, memberId)
    .limit(MEMBER_PAGE_ROWS + 1);
}

/** A page's rows as read (up to MEMBER_PAGE_ROWS + 1): the members, and where to go on. */
export function toMemberPage(rows: readonly MemberRef[]): MemberPage {
  const members = rows.slice(0, MEMBER_PAGE_ROWS).map(({ value, display, type }) => ({ value, display, type }));
  if (rows.length <= MEMBER_PAGE_ROWS) return { members };
  return { members, continueAfter: members.at(-1)?.value ?? "" };
}

/** Reads the next page of a group's members (one D1 round trip, the token check with it). */
export async function readMemberPage(tdb: TenantDb, groupId: string, after: string | undefined): Promise<MemberPage> {
  const { results } = await tdb.read([memberPageQuery(tdb.db, tdb.tenantId, groupId, after)] as const);
  return toMemberPage(results[0]);
}

/**
 * The members after a first page, page by page, one round trip each: the caller holds one
 * page at a time. Pages read after the first are not one snapshot with it: a member added or
 * removed while a large group is read may or may not show.
 */
export async function* remainingMemberPages(tdb: TenantDb, groupId: string, first: MemberPage): AsyncGenerator<MemberRef[], void> {
  let after = first.continueAfter;
  while (after !== undefined) {
    const page = await readMemberPage(tdb, groupId, after);
    if (page.members.length > 0) yield page.members;
    after = page.continueAfter;
  }
}
