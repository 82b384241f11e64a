/**
 * The operator's side of the directory: accounts and groups the host app already had
 * (for linking), the role/domains it assigns to IdP groups, and reads by insertion order.
 */
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { scimErrors } from "../scim/errors";
import { chunk, rowsPerStatement } from "./chunk";
import type { Database } from "./database";
import { linkingKey } from "./linking";
import { operatorUserColumns, rolesOf } from "./effective-roles";
import { groupRoleRolesChangedInsert } from "./role-sql";
import { tenantRolesQuery } from "./roles";
import { appAccounts, appGroups, groups, users } from "./schema";

export type AppAccountRow = typeof appAccounts.$inferSelect;
export type AppGroupRow = typeof appGroups.$inferSelect;

/** The stored key of a name the operator registers; one no SCIM value could link to is refused. */
function registeredKey(value: string, field: string): string {
  const key = linkingKey(value);
  if (key === null) {
    throw scimErrors.invalidValue(
      `"${field}" contains a character that Unicode normalisation replaces by an ASCII look-alike (such as the Kelvin sign U+212A); write the plain letter.`,
    );
  }
  return key;
}

export async function upsertAppAccount(
  db: Database,
  tenantId: string,
  accountKey: string,
  identity: { userName?: string | undefined; email?: string | undefined },
): Promise<AppAccountRow> {
  // The same canonical form the SCIM create compares (storage/linking.ts).
  const keys = {
    userNameKey: identity.userName === undefined ? null : registeredKey(identity.userName, "userName"),
    emailKey: identity.email === undefined ? null : registeredKey(identity.email, "email"),
  };
  const [row] = await db
    .insert(appAccounts)
    .values({ tenantId, accountKey, ...keys, createdAt: new Date().toISOString() })
    .onConflictDoUpdate({ target: [appAccounts.tenantId, appAccounts.accountKey], set: keys })
    .returning();
  if (!row) throw new Error("app account upsert returned no row");
  return row;
}

export async function findAppAccount(db: Database, tenantId: string, accountKey: string) {
  return db
    .select()
    .from(appAccounts)
    .where(and(eq(appAccounts.tenantId, tenantId), eq(appAccounts.accountKey, accountKey)))
    .get();
}

export async function deleteAppAccount(db: Database, tenantId: string, accountKey: string): Promise<boolean> {
  const removed = await db
    .delete(appAccounts)
    .where(and(eq(appAccounts.tenantId, tenantId), eq(appAccounts.accountKey, accountKey)))
    .returning({ key: appAccounts.accountKey });
  return removed.length > 0;
}

export async function upsertAppGroup(db: Database, tenantId: string, groupKey: string, displayName: string): Promise<AppGroupRow> {
  const displayNameKey = registeredKey(displayName, "displayName");
  const [row] = await db
    .insert(appGroups)
    .values({ tenantId, groupKey, displayNameKey, createdAt: new Date().toISOString() })
    .onConflictDoUpdate({ target: [appGroups.tenantId, appGroups.groupKey], set: { displayNameKey } })
    .returning();
  if (!row) throw new Error("app group upsert returned no row");
  return row;
}

export async function findAppGroup(db: Database, tenantId: string, groupKey: string) {
  return db
    .select()
    .from(appGroups)
    .where(and(eq(appGroups.tenantId, tenantId), eq(appGroups.groupKey, groupKey)))
    .get();
}

/**
 * A page's documents add up to at most this many bytes (one document more when the first is
 * larger): D1 returns at most 50 MB per statement and a Worker has 128 MB, while a document
 * may be 1 MiB. A page of large documents is cut short; `next` continues after its last row.
 */
export const DIRECTORY_PAGE_DOC_BYTES = 8 * 1024 * 1024;
/** Documents up to this size come inline with the page (1,000 × 16 kB ≈ 16 MB); larger ones after it. */
const INLINE_DOC_BYTES = 16_384;

/**
 * Users in insertion order after a cursor: the host app's full read, page by page, each with
 * its effective roles (the catalog rides in the page's batch). One round trip when the
 * documents are small; large ones are read by id after the page, which is first cut to
 * DIRECTORY_PAGE_DOC_BYTES.
 */
export async function listUsersAfter(db: Database, tenantId: string, after: number, limit: number) {
  const docBytes = sql<number>`length(CAST(${users.doc} AS BLOB))`;
  const inlineDoc = sql`CASE WHEN ${docBytes} <= ${sql.raw(String(INLINE_DOC_BYTES))} THEN ${users.doc} END`.mapWith(
    (text: string): Record<string, unknown> | null => JSON.parse(text) as Record<string, unknown>,
  );
  const [rows, catalogRows] = await db.batch([
    db
      .select({ ...operatorUserColumns(tenantId), doc: inlineDoc, docBytes })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), gt(users.seq, after)))
      .orderBy(asc(users.seq))
      .limit(limit),
    tenantRolesQuery(db, tenantId),
  ]);
  let total = 0;
  const page = rows.filter((row, i) => (total += row.docBytes) <= DIRECTORY_PAGE_DOC_BYTES || i === 0);
  const large = page.filter((row) => row.doc === null).map((row) => row.id);
  const docs = new Map<string, Record<string, unknown>>();
  for (const ids of chunk(large, rowsPerStatement(1, 1))) {
    const read = await db.select({ id: users.id, doc: users.doc }).from(users).where(and(eq(users.tenantId, tenantId), inArray(users.id, ids)));
    for (const { id, doc } of read) docs.set(id, doc);
  }
  // A user deleted between the two reads is left out.
  return page.flatMap(({ docBytes: _bytes, doc, groupRoleSources, groupRoleValues, ...row }) => {
    const full = doc ?? docs.get(row.id);
    return full ? [{ ...row, doc: full, roles: rolesOf({ active: row.active, doc: full, groupRoleSources, groupRoleValues }, catalogRows) }] : [];
  });
}

/** The columns the operator API and the console show of a group. */
export const groupSummary = {
  seq: groups.seq,
  id: groups.id,
  displayName: groups.displayName,
  externalId: groups.externalId,
  role: groups.role,
  domains: groups.domains,
  memberCount: groups.memberCount,
  lastModified: groups.lastModified,
};

export async function listGroupsAfter(db: Database, tenantId: string, after: number, limit: number) {
  return db
    .select(groupSummary)
    .from(groups)
    .where(and(eq(groups.tenantId, tenantId), gt(groups.seq, after)))
    .orderBy(asc(groups.seq))
    .limit(limit);
}

/**
 * The operator edits what its app grants through a group; SCIM never touches these. A role
 * edit writes, in the same batch and before the update, a `user.roles_changed` event for each
 * active member whose effective roles it changes (one INSERT … SELECT, storage/role-sql.ts).
 */
export async function updateGroupGrants(
  db: Database,
  tenantId: string,
  groupId: string,
  grants: { role?: string | null | undefined; domains?: string[] | undefined },
) {
  const set = {
    ...(grants.role !== undefined ? { role: grants.role } : {}),
    ...(grants.domains !== undefined ? { domains: grants.domains } : {}),
  };
  const update = db
    .update(groups)
    .set(set)
    .where(and(eq(groups.tenantId, tenantId), eq(groups.id, groupId)))
    .returning(groupSummary);
  if (grants.role === undefined) return (await update)[0];
  const roleEvents = groupRoleRolesChangedInsert(db, tenantId, groupId, grants.role, new Date().toISOString());
  const [, rows] = await db.batch([roleEvents, update]);
  return rows[0];
}
