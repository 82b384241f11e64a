/**
 * Groups in D1. Members live in group_members only: adding or removing k members costs
 * O(k) indexed statements (chunked under D1's 100-parameter limit), never a read or a
 * rewrite of the member list. Each write is one batch behind TenantDb's preconditions; the
 * tenant's Durable Object calls them one at a time, or several members-only updates together
 * in one batch (updateGroupsTogether).
 */
import { and, eq, getTableColumns, inArray, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { scimErrors } from "../scim/errors";
import type { MemberChanges } from "../scim/patch";
import { type ScimDocument, uniquenessKey } from "../scim/schema";
import { chunk, rowsPerStatement } from "./chunk";
import type { Database } from "./database";
import { countedMatches, type ScanPlan, tenantSizeFields } from "./scan-budget";
import { qualified } from "./qualified";
import { appGroups, events, groupMembers, groups, tenants, users } from "./schema";
import { matchErrorChain, type Precondition, PreconditionFailed, runTogether, type TenantDb } from "./tenant-db";
import { limitOf, offsetOf } from "./listing";
import { countInBlock, uncountFromBlock } from "./seq-blocks";

/** The most members one request may name (add, remove or replace): a documented bound. */
export const MAX_MEMBERS_PER_REQUEST = 10_000;
/** An event lists at most this many member ids per list; a longer list becomes its count. */
const EVENT_MEMBER_IDS = 1000;

export interface MemberRef {
  value: string;
  display: string | null;
  type: "User" | "Group";
}

export interface StoredGroup {
  id: string;
  doc: ScimDocument;
  version: number;
  createdAt: string;
  lastModified: string;
  role: string | null;
  domains: string[];
  memberCount: number;
  /** Undefined when members were not read (excludedAttributes=members). */
  members?: MemberRef[];
}

/** Member ids deduplicated once, here: the counts and existence checks below rely on it. */
function uniqueMembers(changes: MemberChanges): MemberChanges {
  return { clear: changes.clear, add: [...new Set(changes.add)], remove: [...new Set(changes.remove)] };
}

export function changesMembers(changes: MemberChanges): boolean {
  return changes.clear || changes.add.length > 0 || changes.remove.length > 0;
}

type GroupRow = typeof groups.$inferSelect;

const { tenantId: _tenant, seq: _seq, displayName: _name, displayNameKey: _key, externalId: _externalId, ...groupFields } =
  getTableColumns(groups);

const memberDisplay = sql<string | null>`coalesce(json_extract(${qualified(users.doc)}, '$.displayName'), ${qualified(users.userName)})`;

/** A group's members as JSON, computed per returned row (only when members are wanted). */
const membersJson = sql<string>`(SELECT json_group_array(json_object('value', ${qualified(groupMembers.memberId)}, 'type', ${qualified(groupMembers.memberType)}, 'display', ${memberDisplay})) FROM ${groupMembers} LEFT JOIN ${users} ON ${qualified(users.tenantId)} = ${qualified(groupMembers.tenantId)} AND ${qualified(users.id)} = ${qualified(groupMembers.memberId)} WHERE ${qualified(groupMembers.tenantId)} = ${qualified(groups.tenantId)} AND ${qualified(groupMembers.groupId)} = ${qualified(groups.id)})`;

function withMembers(includeMembers: boolean) {
  return includeMembers ? { ...groupFields, membersJson } : { ...groupFields, membersJson: sql<null>`NULL` };
}

export function toStoredGroup(row: Pick<GroupRow, keyof typeof groupFields> & { membersJson: string | null }): StoredGroup {
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
  if (row.membersJson !== null) group.members = JSON.parse(row.membersJson) as MemberRef[];
  return group;
}

function selectGroupQuery(db: Database, tenantId: string, id: string, includeMembers: boolean) {
  return db
    .select(withMembers(includeMembers))
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
    .select({ ...withMembers(page.includeMembers), seq: groups.seq })
    .from(groups)
    .where(and(eq(groups.tenantId, tenantId), page.where))
    .orderBy(...page.orderBy)
    .limit(limitOf(page.limit))
    .offset(offsetOf(page.offset));
}

/** totalResults of a filtered list, and the tenant's size, within the scan budget (filter-cost.ts). */
export function countGroupsQuery(db: Database, tenantId: string, where: SQL | undefined, scan: ScanPlan | undefined) {
  const matches = countedMatches("Group", tenantId, and(eq(groups.tenantId, tenantId), where) ?? sql`1`, scan);
  return db.select({ total: sql<number>`count(*)`, ...tenantSizeFields("Group", tenantId) }).from(matches);
}

/** totalResults of an unfiltered list: a counter kept by every write, not a scan. */
export function groupCountQuery(db: Database, tenantId: string) {
  return db.select({ total: tenants.groupCount, ...tenantSizeFields("Group", tenantId) }).from(tenants).where(eq(tenants.id, tenantId));
}

function indexedColumns(doc: ScimDocument) {
  const displayName = doc.displayName as string;
  return {
    displayName,
    displayNameKey: uniquenessKey(displayName),
    externalId: typeof doc.externalId === "string" ? doc.externalId : null,
  };
}

function checkMemberBound(changes: MemberChanges): void {
  const named = changes.add.length + changes.remove.length;
  if (named > MAX_MEMBERS_PER_REQUEST) {
    throw scimErrors.payloadTooLarge(`At most ${MAX_MEMBERS_PER_REQUEST} members may be named in one request; send several.`);
  }
}

/** Every added id must be a user of this tenant: one guard per chunk, in the write's batch. */
function membersExist(tenantId: string, ids: string[]): Precondition[] {
  return chunk(ids, rowsPerStatement(1, 2)).map((ids) => ({
    kind: "membersExist" as const,
    holds: sql`(SELECT count(*) FROM ${users} WHERE ${users.tenantId} = ${tenantId} AND ${inArray(users.id, ids)}) = ${ids.length}`,
  }));
}

/**
 * The statements that apply member changes, O(changed members). member_count is kept exact
 * by counting, per chunk and before the change, how many of the chunk are already members.
 */
function memberStatements(db: Database, tenantId: string, groupId: string, changes: MemberChanges): BatchItem<"sqlite">[] {
  const ofGroup = and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.groupId, groupId));
  const group = and(eq(groups.tenantId, tenantId), eq(groups.id, groupId));
  const statements: BatchItem<"sqlite">[] = [];
  if (changes.clear) {
    statements.push(db.delete(groupMembers).where(ofGroup), db.update(groups).set({ memberCount: 0 }).where(group));
  }
  const present = (ids: string[]) => sql`(SELECT count(*) FROM ${groupMembers} WHERE ${ofGroup} AND ${inArray(groupMembers.memberId, ids)})`;
  for (const ids of chunk(changes.remove, rowsPerStatement(1, 6))) {
    statements.push(
      db.update(groups).set({ memberCount: sql`${groups.memberCount} - ${present(ids)}` }).where(group),
      db.delete(groupMembers).where(and(ofGroup, inArray(groupMembers.memberId, ids))),
    );
  }
  for (const ids of chunk(changes.add, rowsPerStatement(4))) {
    statements.push(
      db.update(groups).set({ memberCount: sql`${groups.memberCount} + ${ids.length} - ${present(ids)}` }).where(group),
      db
        .insert(groupMembers)
        .values(ids.map((memberId) => ({ tenantId, groupId, memberId, memberType: "User" as const })))
        .onConflictDoNothing(),
    );
  }
  return statements;
}

interface EffectiveChange {
  /** True when the change alters the membership. */
  happens: SQL;
  /** The group.members_changed event's data, as JSON. */
  data: SQL;
}

/**
 * The part of a member change that is real: named ids that are not members yet, and removed
 * ids that are. IdPs re-send memberships every cycle; evaluated before the batch's member
 * statements, this lets a re-sent add bump no version and write no event. Each id list is
 * bound as one JSON parameter, whatever its length. A replace of all members (PUT, replace
 * `members`) always counts, and its event carries the new member list (`replacedAll`).
 */
function effectiveMemberChange(tenantId: string, groupId: string, changes: MemberChanges): EffectiveChange {
  if (changes.clear) {
    const added = changes.add.length > EVENT_MEMBER_IDS ? changes.add.length : changes.add;
    return { happens: sql`1`, data: sql`json(${JSON.stringify({ replacedAll: true, added, removed: [] })})` };
  }
  const isMember = sql`EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${qualified(groupMembers.tenantId)} = ${tenantId} AND ${qualified(groupMembers.groupId)} = ${groupId} AND ${qualified(groupMembers.memberId)} = named.value)`;
  const named = (ids: string[], members: boolean) =>
    sql`SELECT named.value AS id FROM json_each(${JSON.stringify(ids)}) AS named WHERE ${members ? isMember : sql`NOT ${isMember}`}`;
  const added = named(changes.add, false);
  const removed = named(changes.remove, true);
  // The ids, or their count beyond EVENT_MEMBER_IDS (json() of a number embeds it as a number).
  const summary = (ids: SQL) =>
    sql`json((SELECT CASE WHEN count(*) > ${sql.raw(String(EVENT_MEMBER_IDS))} THEN count(*) ELSE json_group_array(id) END FROM (${ids})))`;
  return {
    happens: sql`(EXISTS (${added}) OR EXISTS (${removed}))`,
    data: sql`json_object('replacedAll', json('false'), 'added', ${summary(added)}, 'removed', ${summary(removed)})`,
  };
}

function isDisplayNameConflict(error: unknown): boolean {
  return matchErrorChain(error, /UNIQUE constraint failed: groups\.tenant_id, groups\.display_name_key/) !== undefined;
}

function translateWriteError(error: unknown): unknown {
  if (isDisplayNameConflict(error)) {
    return scimErrors.uniqueness("A group with this displayName already exists (displayName is case-insensitive).");
  }
  if (error instanceof PreconditionFailed && error.kind === "membersExist") {
    return scimErrors.invalidValue("Every member must be an existing user of this tenant; nothing was applied.");
  }
  if (error instanceof PreconditionFailed && error.kind === "noAccountConflict") {
    return scimErrors.uniqueness("The application already has a group with this displayName, and this tenant does not link existing groups.");
  }
  return error;
}

/** Names the first member id that is not a user of this tenant, for a precise 400 detail. */
async function findUnknownMember(tdb: TenantDb, ids: string[]): Promise<string | undefined> {
  for (const part of chunk([...new Set(ids)], rowsPerStatement(1, 1))) {
    const { results } = await tdb.read([
      tdb.db.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tdb.tenantId), inArray(users.id, part))),
    ] as const);
    const known = new Set(results[0].map((r) => r.id));
    const unknown = part.find((id) => !known.has(id));
    if (unknown !== undefined) return unknown;
  }
  return undefined;
}

async function explainMembers(tdb: TenantDb, error: unknown, ids: string[]): Promise<unknown> {
  const translated = translateWriteError(error);
  if (error instanceof PreconditionFailed && error.kind === "membersExist") {
    const unknown = await findUnknownMember(tdb, ids);
    if (unknown !== undefined) {
      return scimErrors.invalidValue(`Member '${unknown}' is not a user of this tenant; nothing was applied.`);
    }
  }
  return translated;
}

export async function createGroup(tdb: TenantDb, doc: ScimDocument, memberIds: string[]): Promise<StoredGroup> {
  const { db, tenantId } = tdb;
  const changes = uniqueMembers({ clear: false, add: memberIds, remove: [] });
  checkMemberBound(changes);
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const columns = indexedColumns(doc);
  const tenant = eq(tenants.id, tenantId);
  const appGroupMatch = sql`${appGroups.tenantId} = ${tenantId} AND ${appGroups.groupId} IS NULL AND ${appGroups.displayNameKey} = ${columns.displayNameKey}`;
  const linkingOff = sql`EXISTS (SELECT 1 FROM ${tenants} WHERE ${tenant} AND ${tenants.linkExistingUsers} = 0)`;
  try {
    return await writeAndReadBack(
      tdb,
      [
        db.insert(groups).values({
          tenantId,
          id,
          ...columns,
          // The onboarding settings apply to groups the IdP creates.
          role: sql`(SELECT ${tenants.defaultRole} FROM ${tenants} WHERE ${tenant})`,
          domains: sql`(SELECT ${tenants.domainRestrictions} FROM ${tenants} WHERE ${tenant})`,
          createdAt: now,
          lastModified: now,
          version: 1,
          doc,
        }),
        db.update(appGroups).set({ groupId: id, linkedAt: now }).where(appGroupMatch),
        db.update(tenants).set({ groupCount: sql`${tenants.groupCount} + 1` }).where(tenant),
        countInBlock(db, "Group", tenantId, id),
        db.insert(events).values({
          tenantId,
          type: "group.created",
          resourceType: "Group",
          resourceId: id,
          at: now,
          data: sql`json_object('displayName', ${columns.displayName}, 'members', ${changes.add.length}, 'linkedGroup', (SELECT ${appGroups.groupKey} FROM ${appGroups} WHERE ${appGroups.tenantId} = ${tenantId} AND ${appGroups.groupId} = ${id}))`,
        }),
        ...memberStatements(db, tenantId, id, changes),
      ],
      [
        ...membersExist(tenantId, changes.add),
        { kind: "noAccountConflict", holds: sql`NOT (${linkingOff} AND EXISTS (SELECT 1 FROM ${appGroups} WHERE ${appGroupMatch}))` },
      ],
      { id, includeMembers: true },
    );
  } catch (error) {
    throw await explainMembers(tdb, error, changes.add);
  }
}

export async function readGroup(tdb: TenantDb, id: string, includeMembers: boolean): Promise<StoredGroup> {
  const { results } = await tdb.read([selectGroupQuery(tdb.db, tdb.tenantId, id, includeMembers)] as const);
  const row = results[0][0];
  if (!row) throw scimErrors.notFound("No group with this id in this tenant.");
  return toStoredGroup(row);
}

/** Which group a write reads back, in its own batch, for the response. */
export interface ReadBack {
  id: string;
  includeMembers: boolean;
}

/**
 * Runs a write and reads the group back at the end of the same batch: one round trip, and
 * the response shows exactly the state this write committed.
 */
async function writeAndReadBack(
  tdb: TenantDb,
  statements: BatchItem<"sqlite">[],
  preconditions: Precondition[],
  readBack: ReadBack,
): Promise<StoredGroup> {
  const query = readBackQuery(tdb, readBack);
  const results = await tdb.write([...statements, query] as unknown as [BatchItem<"sqlite">], preconditions);
  return readBackRow(results);
}

function readBackQuery(tdb: TenantDb, readBack: ReadBack) {
  return selectGroupQuery(tdb.db, tdb.tenantId, readBack.id, readBack.includeMembers);
}

/** The group a write's batch read back: the last of its results. */
function readBackRow(results: readonly unknown[]): StoredGroup {
  const row = (results.at(-1) as Awaited<ReturnType<typeof readBackQuery>> | undefined)?.[0];
  if (!row) throw new Error("a committed group write read back no group");
  return toStoredGroup(row);
}

export interface GroupUpdate {
  id: string;
  /** The new document, or undefined when only members change. */
  doc?: ScimDocument;
  members: MemberChanges;
  expectedVersion?: number;
}

/** Applies a document and/or member change in one round trip, reading the group back when asked. */
export async function updateGroup(tdb: TenantDb, update: GroupUpdate, readBack: Omit<ReadBack, "id">): Promise<StoredGroup>;
export async function updateGroup(tdb: TenantDb, update: GroupUpdate): Promise<void>;
export async function updateGroup(tdb: TenantDb, update: GroupUpdate, readBack?: Omit<ReadBack, "id">): Promise<StoredGroup | void> {
  const plan = planGroupUpdate(tdb, update);
  try {
    if (readBack) return await writeAndReadBack(tdb, plan.statements, plan.preconditions, { id: update.id, ...readBack });
    await tdb.write(plan.statements as unknown as [BatchItem<"sqlite">], plan.preconditions);
  } catch (error) {
    throw await explainMembers(tdb, error, plan.added);
  }
}

/** One group update of a batch applied together (updateGroupsTogether). */
export interface GroupUpdateJob {
  tdb: TenantDb;
  update: GroupUpdate;
  readBack?: Omit<ReadBack, "id">;
}

/**
 * Several group updates of one tenant in one round trip, in order, each behind its own guards.
 * All apply or none: `applied: false` means the batch failed and nothing was written (`error`
 * says why); running the updates one at a time then tells which failed. When applied, each
 * update's group comes back if it asked for it.
 */
export async function updateGroupsTogether(
  jobs: readonly GroupUpdateJob[],
): Promise<{ applied: true; groups: (StoredGroup | undefined)[] } | { applied: false; error: unknown }> {
  const first = jobs[0];
  if (!first) return { applied: true, groups: [] };
  const prepared = jobs.map(({ tdb, update, readBack }) => {
    const plan = planGroupUpdate(tdb, update);
    const query = readBack ? readBackQuery(tdb, { id: update.id, ...readBack }) : undefined;
    return { query, write: tdb.prepare(query ? [...plan.statements, query] : plan.statements, plan.preconditions) };
  });
  let results: unknown[][];
  try {
    results = await runTogether(first.tdb.db, prepared.map((p) => p.write));
  } catch (error) {
    return { applied: false, error };
  }
  return { applied: true, groups: prepared.map((p, i) => (p.query ? readBackRow(results[i] ?? []) : undefined)) };
}

/** The statements and preconditions of a group update, and the member ids it adds. */
function planGroupUpdate(tdb: TenantDb, update: GroupUpdate): { statements: BatchItem<"sqlite">[]; preconditions: Precondition[]; added: string[] } {
  const { db, tenantId } = tdb;
  const { id, doc } = update;
  const members = uniqueMembers(update.members);
  checkMemberBound(members);
  const now = new Date().toISOString();
  const current = and(eq(groups.tenantId, tenantId), eq(groups.id, id));
  const versionMatches = update.expectedVersion === undefined ? sql`` : sql` AND ${groups.version} = ${update.expectedVersion}`;
  const memberChange = changesMembers(members) ? effectiveMemberChange(tenantId, id, members) : undefined;
  // A members-only change that alters nothing keeps the version and lastModified.
  const changed = doc || !memberChange ? current : and(current, memberChange.happens);
  // Everything that reads the membership as it was comes before the member statements.
  const statements: BatchItem<"sqlite">[] = [
    db
      .update(groups)
      .set({ ...(doc ? { ...indexedColumns(doc), doc } : {}), lastModified: now, version: sql`${groups.version} + 1` })
      .where(changed),
  ];
  if (doc) {
    statements.push(
      db.insert(events).values({ tenantId, type: "group.updated", resourceType: "Group", resourceId: id, at: now, data: { displayName: doc.displayName } }),
    );
  }
  if (memberChange) {
    const event = {
      seq: sql<number>`NULL`.as("seq"),
      tenantId: sql<string>`${tenantId}`.as("tenant_id"),
      type: sql<string>`'group.members_changed'`.as("type"),
      resourceType: sql<string>`'Group'`.as("resource_type"),
      resourceId: sql<string>`${id}`.as("resource_id"),
      at: sql<string>`${now}`.as("at"),
      data: memberChange.data.as("data"),
    };
    statements.push(db.insert(events).select(db.select(event).from(sql`(SELECT 1)`).where(memberChange.happens)));
  }
  statements.push(...memberStatements(db, tenantId, id, members));
  const preconditions: Precondition[] = [
    { kind: "resourceCurrent", holds: sql`EXISTS (SELECT 1 FROM ${groups} WHERE ${current}${versionMatches})` },
    ...membersExist(tenantId, members.add),
  ];
  return { statements, preconditions, added: members.add };
}

export async function deleteGroup(tdb: TenantDb, id: string, expectedVersion?: number): Promise<void> {
  const { db, tenantId } = tdb;
  const current = and(eq(groups.tenantId, tenantId), eq(groups.id, id));
  const versionMatches = expectedVersion === undefined ? sql`` : sql` AND ${groups.version} = ${expectedVersion}`;
  await tdb.write(
    [
      db.delete(groupMembers).where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.groupId, id))),
      db.update(appGroups).set({ groupId: null, linkedAt: null }).where(and(eq(appGroups.tenantId, tenantId), eq(appGroups.groupId, id))),
      db.update(tenants).set({ groupCount: sql`${tenants.groupCount} - 1` }).where(eq(tenants.id, tenantId)),
      uncountFromBlock(db, "Group", tenantId, id),
      db.delete(groups).where(current),
      db.insert(events).values({ tenantId, type: "group.deleted", resourceType: "Group", resourceId: id, at: new Date().toISOString() }),
    ] as const,
    [{ kind: "resourceCurrent", holds: sql`EXISTS (SELECT 1 FROM ${groups} WHERE ${current}${versionMatches})` }],
  );
}

export async function groupExists(tdb: TenantDb, id: string): Promise<boolean> {
  const { results } = await tdb.read([
    tdb.db.select({ id: groups.id }).from(groups).where(and(eq(groups.tenantId, tdb.tenantId), eq(groups.id, id))),
  ] as const);
  return results[0].length > 0;
}
