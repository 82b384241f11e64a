/**
 * Groups in D1. Members live in group_members only: adding or removing k members costs
 * O(k) indexed statements (chunked under D1's 100-parameter limit), never a read or a
 * rewrite of the member list. Each write is one batch behind TenantDb's preconditions; the
 * tenant's Durable Object calls them one at a time, or several members-only updates together
 * in one batch (updateGroupsTogether).
 */
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { scimErrors } from "../scim/errors";
import type { MemberChanges } from "../scim/patch";
import { type ScimDocument, uniquenessKey } from "../scim/schema";
import { chunk, rowsPerStatement } from "./chunk";
import type { Database } from "./database";
import { anyCandidate, appGroupCandidates, onlyCandidate } from "./linking";
import { qualified } from "./qualified";
import { appGroups, events, groupMembers, groups, tenants, users } from "./schema";
import { membershipRolesChangedInsert } from "./role-sql";
import { type Precondition, runTogether, type TenantDb } from "./tenant-db";
import { countInBlock, uncountFromBlock } from "./seq-blocks";
import { MEMBER_DISPLAY_CHARS, type MemberRef, memberPageQuery, toMemberPage } from "./group-members";
import { selectGroupQuery, type StoredGroup, toStoredGroup } from "./group-reads";
import { addedGroupIds, ancestorsMembersChangedInsert, leaveGroupsDelete, leaveGroupsStatements, nestingPreconditions } from "./group-nesting";
import { explainMembers } from "./group-write-errors";

/** The most members one request may name (add, remove or replace): a documented bound. */
export const MAX_MEMBERS_PER_REQUEST = 10_000;
/** An event lists at most this many member ids per list; a longer list becomes its count. */
const EVENT_MEMBER_IDS = 1000;

/** Member ids deduplicated once, here: the counts and existence checks below rely on it. */
function uniqueMembers(changes: MemberChanges): MemberChanges {
  const unique: MemberChanges = { clear: changes.clear, add: [...new Set(changes.add)], remove: [...new Set(changes.remove)] };
  if (changes.displays) unique.displays = changes.displays;
  return unique;
}

/** The display the client sent for an added member, cut like every member display (group-members.ts). */
function sentDisplay(changes: MemberChanges, memberId: string): string | null {
  const sent = changes.displays?.get(memberId);
  return sent === undefined ? null : Array.from(sent).slice(0, MEMBER_DISPLAY_CHARS).join("");
}

export function changesMembers(changes: MemberChanges): boolean {
  return changes.clear || changes.add.length > 0 || changes.remove.length > 0;
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

/**
 * Every added id must be a user or a group of this tenant (RFC 7643 §4.2; ids are UUIDs the
 * server made, so no id is both): one guard in the write's batch, the ids bound as one JSON
 * parameter however many (each a primary-key probe of users, then of groups).
 */
function membersExist(tenantId: string, ids: string[]): Precondition[] {
  if (ids.length === 0) return [];
  const known = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${qualified(users.tenantId)} = ${tenantId} AND ${qualified(users.id)} = "named"."value") OR EXISTS (SELECT 1 FROM ${groups} WHERE ${qualified(groups.tenantId)} = ${tenantId} AND ${qualified(groups.id)} = "named"."value")`;
  return [{ kind: "membersExist", holds: sql`(SELECT count(*) FROM json_each(${JSON.stringify(ids)}) AS "named" WHERE ${known}) = ${ids.length}` }];
}

/** The guards of adding `ids` to group `groupId`: they exist, and nesting stays acyclic and bounded. */
function addedMembersValid(tenantId: string, groupId: string, ids: string[]): Precondition[] {
  return [...membersExist(tenantId, ids), ...nestingPreconditions(tenantId, groupId, ids)];
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
  // Per row: tenant, group, member and the sent display; the type is a literal, corrected below.
  // A member already there keeps the display it was added with.
  for (const ids of chunk(changes.add, rowsPerStatement(4))) {
    statements.push(
      db.update(groups).set({ memberCount: sql`${groups.memberCount} + ${ids.length} - ${present(ids)}` }).where(group),
      db
        .insert(groupMembers)
        .values(ids.map((memberId) => ({ tenantId, groupId, memberId, memberType: sql<"User">`'User'`, display: sentDisplay(changes, memberId) })))
        .onConflictDoNothing(),
    );
  }
  if (changes.add.length > 0) statements.push(markMemberGroups(db, tenantId, groupId, changes.add));
  return statements;
}

/**
 * Added members that are groups of the tenant get `member_type` 'Group' (nested groups,
 * storage/group-nesting.ts): one statement whatever the number of ids (one JSON parameter).
 */
function markMemberGroups(db: Database, tenantId: string, groupId: string, added: string[]) {
  const addedGroups = addedGroupIds(tenantId, JSON.stringify(added));
  return db
    .update(groupMembers)
    .set({ memberType: "Group" })
    .where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.groupId, groupId), sql`${groupMembers.memberId} IN (${addedGroups})`));
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

export async function createGroup(tdb: TenantDb, doc: ScimDocument, memberIds: string[], displays?: Map<string, string>): Promise<StoredGroup> {
  const { db, tenantId } = tdb;
  const changes = uniqueMembers({ clear: false, add: memberIds, remove: [], ...(displays ? { displays } : {}) });
  checkMemberBound(changes);
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const columns = indexedColumns(doc);
  const tenant = eq(tenants.id, tenantId);
  // Links to the only unlinked app group with this displayName (storage/linking.ts).
  const candidates = appGroupCandidates(tenantId, columns.displayName);
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
        db.update(appGroups).set({ groupId: id, linkedAt: now }).where(onlyCandidate(appGroups, candidates)),
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
        membershipRolesChangedInsert(db, tenantId, id, changes, now),
        ...memberStatements(db, tenantId, id, changes),
      ],
      [
        ...addedMembersValid(tenantId, id, changes.add),
        { kind: "noAccountConflict", holds: sql`NOT (${linkingOff} AND ${anyCandidate(appGroups, candidates)})` },
      ],
      { id, includeMembers: true },
    );
  } catch (error) {
    throw await explainMembers(tdb, error, changes.add);
  }
}

/** Which group a write reads back, in its own batch, for the response. */
export interface ReadBack {
  id: string;
  includeMembers: boolean;
}

/**
 * Runs a write and reads the group back at the end of the same batch: one round trip, and
 * the response shows exactly the state this write committed. The read-back is the group row
 * and at most the first page of its members, never the whole membership, so a large group
 * cannot make the write's own batch fail (D1's 2 MB value and 50 MB result limits); the rest
 * of a large group's members are read after the write committed (storage/group-members.ts).
 */
async function writeAndReadBack(
  tdb: TenantDb,
  statements: BatchItem<"sqlite">[],
  preconditions: Precondition[],
  readBack: ReadBack,
): Promise<StoredGroup> {
  const queries = readBackQueries(tdb, readBack);
  const results = await tdb.write([...statements, ...queries] as unknown as [BatchItem<"sqlite">], preconditions);
  return readBackGroup(results, readBack);
}

function readBackQueries(tdb: TenantDb, readBack: ReadBack): BatchItem<"sqlite">[] {
  const group = selectGroupQuery(tdb.db, tdb.tenantId, readBack.id);
  return readBack.includeMembers ? [group, memberPageQuery(tdb.db, tdb.tenantId, readBack.id)] : [group];
}

type GroupRowRead = Awaited<ReturnType<typeof selectGroupQuery>>;

/** The group a write's batch read back: its last results (the row, then the members' first page). */
function readBackGroup(results: readonly unknown[], readBack: ReadBack): StoredGroup {
  const [rows, members] = (readBack.includeMembers ? results.slice(-2) : results.slice(-1)) as [GroupRowRead, MemberRef[]?];
  const row = rows[0];
  if (!row) throw new Error("a committed group write read back no group");
  return toStoredGroup(row, members ? toMemberPage(members) : undefined);
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
    const asked = readBack ? { id: update.id, ...readBack } : undefined;
    const queries = asked ? readBackQueries(tdb, asked) : [];
    return { asked, write: tdb.prepare([...plan.statements, ...queries], plan.preconditions) };
  });
  let results: unknown[][];
  try {
    results = await runTogether(first.tdb.db, prepared.map((p) => p.write));
  } catch (error) {
    return { applied: false, error };
  }
  return { applied: true, groups: prepared.map((p, i) => (p.asked ? readBackGroup(results[i] ?? [], p.asked) : undefined)) };
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
      // Not yet handed to the webhook queue (src/webhooks/).
      enqueuedAt: sql<string | null>`NULL`.as("enqueued_at"),
    };
    statements.push(db.insert(events).select(db.select(event).from(sql`(SELECT 1)`).where(memberChange.happens)));
    // Nested groups (issue 13): the groups this one is in see the change too.
    statements.push(ancestorsMembersChangedInsert(db, tenantId, id, memberChange, now));
  }
  if (changesMembers(members)) statements.push(membershipRolesChangedInsert(db, tenantId, id, members, now));
  statements.push(...memberStatements(db, tenantId, id, members));
  const preconditions: Precondition[] = [
    { kind: "resourceCurrent", holds: sql`EXISTS (SELECT 1 FROM ${groups} WHERE ${current}${versionMatches})` },
    ...addedMembersValid(tenantId, id, members.add),
  ];
  return { statements, preconditions, added: members.add };
}

/**
 * Deletes a group and its memberships in one round trip. A group that is itself a member
 * leaves its parents first (leaveGroupsStatements: each parent's version moves and gets a
 * `group.members_changed` with `removed: [id]`, events for the first MEMBER_LEFT_EVENTS).
 */
export async function deleteGroup(tdb: TenantDb, id: string, expectedVersion?: number): Promise<void> {
  const { db, tenantId } = tdb;
  const now = new Date().toISOString();
  const current = and(eq(groups.tenantId, tenantId), eq(groups.id, id));
  const versionMatches = expectedVersion === undefined ? sql`` : sql` AND ${groups.version} = ${expectedVersion}`;
  await tdb.write(
    [
      // Its members lose the group's role: before the memberships go.
      membershipRolesChangedInsert(db, tenantId, id, { clear: true, add: [], remove: [] }, new Date().toISOString()),
      db.delete(groupMembers).where(and(eq(groupMembers.tenantId, tenantId), eq(groupMembers.groupId, id))),
      ...leaveGroupsStatements(db, tenantId, id, now),
      leaveGroupsDelete(db, tenantId, id),
      db.update(appGroups).set({ groupId: null, linkedAt: null }).where(and(eq(appGroups.tenantId, tenantId), eq(appGroups.groupId, id))),
      db.update(tenants).set({ groupCount: sql`${tenants.groupCount} - 1` }).where(eq(tenants.id, tenantId)),
      uncountFromBlock(db, "Group", tenantId, id),
      db.delete(groups).where(current),
      db.insert(events).values({ tenantId, type: "group.deleted", resourceType: "Group", resourceId: id, at: now }),
    ] as const,
    [{ kind: "resourceCurrent", holds: sql`EXISTS (SELECT 1 FROM ${groups} WHERE ${current}${versionMatches})` }],
  );
}
