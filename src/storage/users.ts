/**
 * Users in D1. Reads return the user's `groups` from the membership index in the same
 * statement; writes are single batches behind TenantDb's preconditions (one round trip).
 */
import { and, eq, getTableColumns, inArray, type SQL, sql } from "drizzle-orm";
import { ScimError, scimErrors } from "../scim/errors";
import { type ScimDocument, uniquenessKey } from "../scim/schema";
import type { Database } from "./database";
import { appAccounts, events, groups, tenants, userEmails, users } from "./schema";
import { directGroupCount, leaveGroupsDelete, leaveGroupsStatements, MEMBER_LEFT_EVENTS, memberGroupsWalk } from "./group-nesting";
import { countInBlock, uncountFromBlock } from "./seq-blocks";
import { chunk, rowsPerStatement } from "./chunk";
import { accountCandidates, anyCandidate, onlyCandidate, userLinkKeys } from "./linking";
import { limitOf, offsetOf } from "./listing";
import { countedMatches, type ScanPlan, sharedCount, sharedCountFields, tenantSizeFields } from "./scan-budget";
import { qualified } from "./qualified";
import { matchErrorChain, PreconditionFailed, type TenantDb } from "./tenant-db";
import { storedRoleValues } from "../scim/roles";
import { userWriteRolesChangedInsert } from "./role-sql";
import { explainUnknownRoles, rolesKnownPreconditions } from "./role-validation";

export interface GroupRef {
  value: string;
  display: string;
  /** RFC 7643 §4.1.2: "direct", or "indirect" through nested groups. */
  type: "direct" | "indirect";
}

export interface StoredUser {
  id: string;
  doc: ScimDocument;
  version: number;
  active: boolean;
  createdAt: string;
  lastModified: string;
  /** Undefined when the caller did not ask for groups (excludedAttributes=groups). */
  groups?: GroupRef[];
}

type UserRow = typeof users.$inferSelect;

/**
 * A user's `groups` lists at most this many groups, each `display` cut to USER_GROUP_DISPLAY_CHARS
 * characters: one value stays far under D1's 2 MB, and a list page of 1,001 users with their
 * inline documents (LIST_INLINE_DOC_BYTES) under its 50 MB result: 1,001 × (16 kB + 100 × ~270 B)
 * ≈ 43 MB. The whole membership of a user is `GET /Groups?filter=members[value eq "<id>"]`.
 */
export const USER_GROUPS_LISTED = 100;
const USER_GROUP_DISPLAY_CHARS = 48;

/**
 * The user's groups as JSON, computed per returned row: its first USER_GROUPS_LISTED direct
 * groups by group id (the member index drives, so the LIMIT stops the walk: a user in 100,000
 * groups reads 100 of them), then the groups those are in, walked upward in the same
 * statement (storage/group-nesting.ts: at most MAX_NESTING_DEPTH levels and
 * NESTING_WALK_ROWS rows). Direct groups come first, then indirect ones, each by group id,
 * USER_GROUPS_LISTED in all. CROSS JOIN fixes the join order: the walk drives, each group a
 * primary-key SEARCH.
 */
const groupsJson = sql<string>`(SELECT json_group_array(json_object('value', "listed"."id", 'display', "listed"."display", 'type', "listed"."type")) FROM (SELECT "walk"."id" AS "id", substr("member_group"."display_name", 1, ${sql.raw(String(USER_GROUP_DISPLAY_CHARS))}) AS "display", CASE WHEN "walk"."depth" = 1 THEN 'direct' ELSE 'indirect' END AS "type" FROM (${memberGroupsWalk(qualified(users.tenantId), qualified(users.id), USER_GROUPS_LISTED)}) AS "walk" CROSS JOIN ${groups} AS "member_group" ON "member_group"."tenant_id" = ${qualified(users.tenantId)} AND "member_group"."id" = "walk"."id" ORDER BY "walk"."depth" > 1, "walk"."id" LIMIT ${sql.raw(String(USER_GROUPS_LISTED))}) AS "listed")`;

const { tenantId: _tenant, seq: _seq, userName: _userName, userNameKey: _key, externalId: _externalId, displayName: _displayName, roleValues: _roleValues, ...userFields } =
  getTableColumns(users);

function withGroups(includeGroups: boolean) {
  return includeGroups ? { ...userFields, groupsJson } : { ...userFields, groupsJson: sql<null>`NULL` };
}

export function toStoredUser(row: Pick<UserRow, keyof typeof userFields> & { groupsJson: string | null }): StoredUser {
  const user: StoredUser = {
    id: row.id,
    doc: row.doc as ScimDocument,
    version: row.version,
    active: row.active,
    createdAt: row.createdAt,
    lastModified: row.lastModified,
  };
  if (row.groupsJson !== null) user.groups = JSON.parse(row.groupsJson) as GroupRef[];
  return user;
}

export function selectUserQuery(db: Database, tenantId: string, id: string, includeGroups: boolean) {
  return db
    .select(withGroups(includeGroups))
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)));
}

export interface PageQuery {
  where: SQL | undefined;
  orderBy: SQL[];
  limit: number | SQL;
  offset: number | SQL;
  includeGroups: boolean;
}

/**
 * D1 returns at most 50 MB per statement, and a document may be 1 MiB (storage/document-size.ts):
 * a page of 1,000 could be 1 GB. A list page therefore returns a document inline only up to
 * LIST_INLINE_DOC_BYTES (16 kB × 1,001 rows ≈ 16 MB); a larger one comes back NULL with its
 * size, and is read by id afterwards (selectUserDocsQuery), a few MB per statement.
 */
export const LIST_INLINE_DOC_BYTES = 16_384;
const docBytes = sql<number>`length(CAST(${users.doc} AS BLOB))`;

export function selectUsersPageQuery(db: Database, tenantId: string, page: PageQuery) {
  // drizzle maps NULL to null without calling the decoder.
  const inlineDoc = sql`CASE WHEN ${docBytes} <= ${sql.raw(String(LIST_INLINE_DOC_BYTES))} THEN ${users.doc} END`.mapWith(
    (text: string): Record<string, unknown> | null => JSON.parse(text) as Record<string, unknown>,
  );
  return db
    .select({ ...withGroups(page.includeGroups), doc: inlineDoc, docBytes, seq: users.seq })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), page.where))
    .orderBy(...page.orderBy)
    .limit(limitOf(page.limit))
    .offset(offsetOf(page.offset));
}

/** The documents of some users of a list page that were too large to come inline. */
export function selectUserDocsQuery(db: Database, tenantId: string, ids: string[]) {
  return db
    .select({ id: users.id, doc: users.doc })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), inArray(users.id, ids)));
}

/** totalResults of an unfiltered list: a counter kept by every write, not a scan. */
export function userCountQuery(db: Database, tenantId: string) {
  return db.select({ total: tenants.userCount, ...tenantSizeFields("User", tenantId) }).from(tenants).where(eq(tenants.id, tenantId));
}

/** totalResults of a filtered list, and the tenant's size, within the scan budget (filter-cost.ts). */
export function countUsersQuery(db: Database, tenantId: string, where: SQL | undefined, scan: ScanPlan | undefined) {
  const matching = and(eq(users.tenantId, tenantId), where) ?? sql`1`;
  if (scan?.sharedIndex) return db.select(sharedCountFields).from(sharedCount("User", tenantId, matching, { ...scan, sharedIndex: scan.sharedIndex }));
  return db.select({ total: sql<number>`count(*)`, ...tenantSizeFields("User", tenantId) }).from(countedMatches("User", tenantId, matching, scan));
}

/**
 * The stored document's length, as SQL (0 when absent): tenants.user_doc_chars follows every
 * write, measured by SQLite itself so that it always equals sum(length(doc)).
 */
function storedDocChars(tenantId: string, id: string): SQL {
  return sql`coalesce((SELECT length(${qualified(users.doc)}) FROM ${users} WHERE ${qualified(users.tenantId)} = ${tenantId} AND ${qualified(users.id)} = ${id}), 0)`;
}

/**
 * The columns derived from the document: those IdPs match on, and the displayName a group's
 * member page shows (validation caps it at 1,024 characters, MEMBER_DISPLAY_CHARS).
 */
function indexedColumns(doc: ScimDocument) {
  const userName = doc.userName as string;
  return {
    userName,
    userNameKey: uniquenessKey(userName),
    externalId: typeof doc.externalId === "string" ? doc.externalId : null,
    displayName: typeof doc.displayName === "string" ? doc.displayName : null,
    active: doc.active !== false,
    roleValues: storedRoleValues(doc),
  };
}

function emailKeys(doc: ScimDocument): string[] {
  const emails = Array.isArray(doc.emails) ? doc.emails : [];
  const values = emails.flatMap((e) =>
    e && typeof e === "object" && !Array.isArray(e) && typeof e.value === "string" ? [e.value.toLowerCase()] : [],
  );
  return [...new Set(values)];
}

function insertEmails(db: Database, tenantId: string, userId: string, doc: ScimDocument) {
  return chunk(emailKeys(doc), rowsPerStatement(3)).map((keys) =>
    db.insert(userEmails).values(keys.map((valueKey) => ({ tenantId, userId, valueKey }))),
  );
}

function isUserNameConflict(error: unknown): boolean {
  return matchErrorChain(error, /UNIQUE constraint failed: users\.tenant_id, users\.user_name_key/) !== undefined;
}

function userNameTaken(): ScimError {
  return scimErrors.uniqueness("A user with this userName already exists (userName is case-insensitive).");
}

export async function createUser(tdb: TenantDb, doc: ScimDocument): Promise<{ user: StoredUser; linkedAccount: string | null }> {
  const { db, tenantId } = tdb;
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const columns = indexedColumns(doc);
  // Linking rules (userName or primary email, one candidate only): storage/linking.ts.
  const candidates = accountCandidates(tenantId, userLinkKeys(doc));
  const linkingOff = sql`EXISTS (SELECT 1 FROM ${tenants} WHERE ${tenants.id} = ${tenantId} AND ${tenants.linkExistingUsers} = 0)`;
  const linkedAccount = sql`(SELECT ${appAccounts.accountKey} FROM ${appAccounts} WHERE ${appAccounts.tenantId} = ${tenantId} AND ${appAccounts.userId} = ${id})`;
  try {
    const [inserted, linked] = await tdb.write(
      [
        db
          .insert(users)
          .values({ tenantId, id, ...columns, createdAt: now, lastModified: now, version: 1, doc })
          .returning(userFields),
        db
          .update(appAccounts)
          .set({ userId: id, linkedAt: now })
          .where(onlyCandidate(appAccounts, candidates))
          .returning({ accountKey: appAccounts.accountKey }),
        db
          .update(tenants)
          .set({
            userCount: sql`${tenants.userCount} + 1`,
            activeUserCount: sql`${tenants.activeUserCount} + ${columns.active ? 1 : 0}`,
            userDocChars: sql`${tenants.userDocChars} + ${storedDocChars(tenantId, id)}`,
          })
          .where(eq(tenants.id, tenantId)),
        db.insert(events).values({
          tenantId,
          type: "user.created",
          resourceType: "User",
          resourceId: id,
          at: now,
          data: sql`json_object('userName', ${columns.userName}, 'active', json(${columns.active ? "true" : "false"}), 'linkedAccount', ${linkedAccount})`,
        }),
        countInBlock(db, "User", tenantId, id),
        userWriteRolesChangedInsert(db, tenantId, id, columns, now, true),
        // Variable in number, so last: the results above keep their positions.
        ...insertEmails(db, tenantId, id, doc),
      ] as const,
      [
        { kind: "noAccountConflict", holds: sql`NOT (${linkingOff} AND ${anyCandidate(appAccounts, candidates)})` },
        ...rolesKnownPreconditions(tenantId, doc),
      ],
    );
    const row = inserted[0];
    if (!row) throw new Error("user insert returned no row");
    return { user: toStoredUser({ ...row, groupsJson: "[]" }), linkedAccount: linked[0]?.accountKey ?? null };
  } catch (error) {
    if (isUserNameConflict(error)) throw userNameTaken();
    if (error instanceof PreconditionFailed && error.kind === "noAccountConflict") {
      throw scimErrors.uniqueness(
        "An account with this userName or primary email already exists in the application, and this tenant does not link existing accounts.",
      );
    }
    throw await explainUnknownRoles(db, tenantId, doc, error);
  }
}

export interface Replacement {
  id: string;
  doc: ScimDocument;
  /** Only write if the stored version is still this one (If-Match, or the version a PATCH read). */
  expectedVersion?: number;
  eventType: "user.replaced" | "user.patched";
}

/**
 * Replaces a user's document in one round trip and returns it with its groups.
 * Throws PreconditionFailed("resourceCurrent") when the user is gone or its version moved on.
 */
export async function replaceUser(tdb: TenantDb, change: Replacement, includeGroups: boolean): Promise<StoredUser> {
  const { db, tenantId } = tdb;
  const { id, doc } = change;
  const now = new Date().toISOString();
  const columns = indexedColumns(doc);
  const current = and(eq(users.tenantId, tenantId), eq(users.id, id));
  const versionMatches = change.expectedVersion === undefined ? sql`` : sql` AND ${users.version} = ${change.expectedVersion}`;
  const storedActive = sql`(SELECT ${users.active} FROM ${users} WHERE ${current})`;
  try {
    const results = await tdb.write(
      [
        db
          .update(tenants)
          .set({
            activeUserCount: sql`${tenants.activeUserCount} + ${columns.active ? 1 : 0} - ${storedActive}`,
            userDocChars: sql`${tenants.userDocChars} - ${storedDocChars(tenantId, id)}`,
          })
          .where(eq(tenants.id, tenantId)),
        // Before the user's update, so `wasActive` reads the stored value: a webhook tells a
        // deactivation and a reactivation from an edit (src/webhooks/event-types.ts).
        db.insert(events).values({
          tenantId,
          type: change.eventType,
          resourceType: "User",
          resourceId: id,
          at: now,
          data: sql`json_object('userName', ${columns.userName}, 'active', json(${columns.active ? "true" : "false"}), 'wasActive', json(CASE WHEN ${storedActive} THEN 'true' ELSE 'false' END))`,
        }),
        // Before the update too: `before` is the stored user's effective roles.
        userWriteRolesChangedInsert(db, tenantId, id, columns, now, false),
        db
          .update(users)
          .set({ ...columns, doc, lastModified: now, version: sql`${users.version} + 1` })
          .where(current),
        db
          .update(tenants)
          .set({ userDocChars: sql`${tenants.userDocChars} + ${storedDocChars(tenantId, id)}` })
          .where(eq(tenants.id, tenantId)),
        db.delete(userEmails).where(and(eq(userEmails.tenantId, tenantId), eq(userEmails.userId, id))),
        ...insertEmails(db, tenantId, id, doc),
        selectUserQuery(db, tenantId, id, includeGroups),
      ] as const,
      [{ kind: "resourceCurrent", holds: sql`EXISTS (SELECT 1 FROM ${users} WHERE ${current}${versionMatches})` }, ...rolesKnownPreconditions(tenantId, doc, id)],
    );
    const row = (results.at(-1) as Awaited<ReturnType<typeof selectUserQuery>>)[0];
    if (!row) throw new Error("replaced user vanished");
    return toStoredUser(row);
  } catch (error) {
    if (isUserNameConflict(error)) throw userNameTaken();
    throw await explainUnknownRoles(db, tenantId, doc, error);
  }
}

/**
 * Deletes a user and its memberships in one round trip. Throws PreconditionFailed when absent.
 * Each group it leaves changed (leaveGroupsStatements: versions, events for the first
 * MEMBER_LEFT_EVENTS), and `user.deleted` carries how many groups the user left, so a feed
 * reader knows when it saw only part of them. Groups it was in only indirectly did not change.
 */
export async function deleteUser(tdb: TenantDb, id: string, expectedVersion?: number): Promise<void> {
  const { db, tenantId } = tdb;
  const now = new Date().toISOString();
  const current = and(eq(users.tenantId, tenantId), eq(users.id, id));
  const versionMatches = expectedVersion === undefined ? sql`` : sql` AND ${users.version} = ${expectedVersion}`;
  await tdb.write(
    [
      // Everything that reads the memberships comes before they are deleted.
      db.insert(events).values({
        tenantId,
        type: "user.deleted",
        resourceType: "User",
        resourceId: id,
        at: now,
        data: sql`json_object('groupsLeft', ${directGroupCount(tenantId, id)})`,
      }),
      ...leaveGroupsStatements(db, tenantId, id, now),
      leaveGroupsDelete(db, tenantId, id),
      db.delete(userEmails).where(and(eq(userEmails.tenantId, tenantId), eq(userEmails.userId, id))),
      db
        .update(appAccounts)
        .set({ userId: null, linkedAt: null })
        .where(and(eq(appAccounts.tenantId, tenantId), eq(appAccounts.userId, id))),
      db
        .update(tenants)
        .set({
          userCount: sql`${tenants.userCount} - 1`,
          activeUserCount: sql`${tenants.activeUserCount} - (SELECT ${users.active} FROM ${users} WHERE ${current})`,
          userDocChars: sql`${tenants.userDocChars} - ${storedDocChars(tenantId, id)}`,
        })
        .where(eq(tenants.id, tenantId)),
      uncountFromBlock(db, "User", tenantId, id),
      db.delete(users).where(current),
    ] as const,
    [{ kind: "resourceCurrent", holds: sql`EXISTS (SELECT 1 FROM ${users} WHERE ${current}${versionMatches})` }],
  );
}

/** Kept for callers and tests that name it: the bound now lives with the nesting code. */
export const DELETED_USER_GROUP_EVENTS = MEMBER_LEFT_EVENTS;

export async function userExists(tdb: TenantDb, id: string): Promise<boolean> {
  const { results } = await tdb.read([
    tdb.db.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tdb.tenantId), eq(users.id, id))),
  ] as const);
  return results[0].length > 0;
}
