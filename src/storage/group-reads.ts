/**
 * Reading groups from D1: one group by id, list pages and their totals. A group's members are
 * never read as one value: the first page of them (storage/group-members.ts) rides in the
 * same batch as the group row, and a larger group's other pages follow one round trip each.
 */
import { and, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import { scimErrors } from "../scim/errors";
import type { ScimDocument } from "../scim/schema";
import type { Database } from "./database";
import { type MemberPage, type MemberRef, memberPageQuery, membersOfGroupsQuery, toMemberPage } from "./group-members";
import { limitOf, offsetOf } from "./listing";
import { countedMatches, type ScanPlan, sharedCount, sharedCountFields, tenantSizeFields } from "./scan-budget";
import { groups, tenants } from "./schema";
import type { TenantDb } from "./tenant-db";

export type { MemberRef } from "./group-members";

export interface StoredGroup {
  id: string;
  doc: ScimDocument;
  version: number;
  createdAt: string;
  lastModified: string;
  role: string | null;
  domains: string[];
  memberCount: number;
  /**
   * Undefined when members were not read (excludedAttributes=members). Otherwise the first
   * page of them (at most MEMBER_PAGE_ROWS): all of them unless `membersContinueAfter` says
   * where the rest start (storage/group-members.ts reads them page by page).
   */
  members?: MemberRef[];
  membersContinueAfter?: string;
}

type GroupRow = typeof groups.$inferSelect;

const { tenantId: _tenant, seq: _seq, displayName: _name, displayNameKey: _key, externalId: _externalId, ...groupFields } =
  getTableColumns(groups);

export function toStoredGroup(row: Pick<GroupRow, keyof typeof groupFields>, members?: MemberPage): StoredGroup {
  const group: StoredGroup = {
    id: row.id,
    doc: row.doc as ScimDocument,
    version: row.version,
    createdAt: row.createdAt,
    lastModified: row.lastModified,
    role: row.role,
    domains: row.domains,
    memberCount: row.memberCount,
  };
  if (members) {
    group.members = members.members;
    if (members.continueAfter !== undefined) group.membersContinueAfter = members.continueAfter;
  }
  return group;
}

export function selectGroupQuery(db: Database, tenantId: string, id: string) {
  return db
    .select(groupFields)
    .from(groups)
    .where(and(eq(groups.tenantId, tenantId), eq(groups.id, id)));
}

export interface GroupPageQuery {
  where: SQL | undefined;
  orderBy: SQL[];
  limit: number | SQL;
  offset: number | SQL;
  includeMembers: boolean;
}

export function selectGroupsPageQuery(db: Database, tenantId: string, page: GroupPageQuery) {
  return db
    .select({ ...groupFields, seq: groups.seq })
    .from(groups)
    .where(and(eq(groups.tenantId, tenantId), page.where))
    .orderBy(...page.orderBy)
    .limit(limitOf(page.limit))
    .offset(offsetOf(page.offset));
}

/**
 * The first page of members of a list page's groups, in the same batch as the page: the page's
 * own query repeated as a subquery (same snapshot, so the same groups). Its parameters are
 * bound again, in this statement only: each statement stays within D1's 100.
 */
export function selectPageMembersQuery(db: Database, tenantId: string, page: GroupPageQuery) {
  const ids = db
    .select({ id: groups.id })
    .from(groups)
    .where(and(eq(groups.tenantId, tenantId), page.where))
    .orderBy(...page.orderBy)
    .limit(limitOf(page.limit))
    .offset(offsetOf(page.offset));
  return membersOfGroupsQuery(db, tenantId, ids.getSQL());
}

/** totalResults of a filtered list, and the tenant's size, within the scan budget (filter-cost.ts). */
export function countGroupsQuery(db: Database, tenantId: string, where: SQL | undefined, scan: ScanPlan | undefined) {
  const matching = and(eq(groups.tenantId, tenantId), where) ?? sql`1`;
  if (scan?.sharedIndex) return db.select(sharedCountFields).from(sharedCount("Group", tenantId, matching, { ...scan, sharedIndex: scan.sharedIndex }));
  return db.select({ total: sql<number>`count(*)`, ...tenantSizeFields("Group", tenantId) }).from(countedMatches("Group", tenantId, matching, scan));
}

/** totalResults of an unfiltered list: a counter kept by every write, not a scan. */
export function groupCountQuery(db: Database, tenantId: string) {
  return db.select({ total: tenants.groupCount, ...tenantSizeFields("Group", tenantId) }).from(tenants).where(eq(tenants.id, tenantId));
}

/** The group, and the first page of its members when asked: one round trip. */
export async function readGroup(tdb: TenantDb, id: string, includeMembers: boolean): Promise<StoredGroup> {
  const { db, tenantId } = tdb;
  const group = selectGroupQuery(db, tenantId, id);
  if (!includeMembers) {
    const { results } = await tdb.read([group] as const);
    return toStoredGroup(found(results[0][0]));
  }
  const { results } = await tdb.read([group, memberPageQuery(db, tenantId, id)] as const);
  return toStoredGroup(found(results[0][0]), toMemberPage(results[1]));
}

function found<T>(row: T | undefined): T {
  if (!row) throw scimErrors.notFound("No group with this id in this tenant.");
  return row;
}

export async function groupExists(tdb: TenantDb, id: string): Promise<boolean> {
  const { results } = await tdb.read([
    tdb.db.select({ id: groups.id }).from(groups).where(and(eq(groups.tenantId, tdb.tenantId), eq(groups.id, id))),
  ] as const);
  return results[0].length > 0;
}
