/** Tenant rows, token metadata and setup links. Every function takes the tenant id it acts on. */
import { and, desc, eq, gt, isNull, or, type SQL, sql } from "drizzle-orm";
import { type AuthFailureSummary, clearAuthFailures, authFailureSummary } from "./auth-failures";
import { deleteConsoleRowsOf } from "./console-sessions";
import type { Database } from "./database";
import { appAccounts, authFailures, appGroups, catalogEntitlements, catalogRoles, events, groupMembers, groups, groupSeqBlocks, requestLog, setupLinks, tenants, userEmails, userSeqBlocks, users } from "./schema";

export type TenantRow = typeof tenants.$inferSelect;
export type Provider = TenantRow["provider"];

export interface TenantSettings {
  name: string;
  provider: Provider;
  enabled: boolean;
  userSync: boolean;
  groupSync: boolean;
  defaultRole: string | null;
  domainRestrictions: string[];
  linkExistingUsers: boolean;
  /** Absent = the column's default, "lenient" (issue 12). */
  roleValidation?: "strict" | "lenient";
}

export interface NewToken {
  hash: string;
  prefix: string;
  lastFour: string;
}

export interface NewSetupLink {
  codeHash: string;
  expiresAt: string;
}

/** Inserts the tenant, and its first setup link when one is given, in one transaction. */
export async function insertTenant(
  db: Database,
  id: string,
  settings: TenantSettings,
  token: NewToken,
  now: string,
  setupLink?: NewSetupLink,
): Promise<TenantRow> {
  const insert = db
    .insert(tenants)
    .values({ id, ...settings, ...tokenColumns(token, now), createdAt: now })
    .returning();
  const [rows] = setupLink ? await db.batch([insert, ...setupLinkStatements(db, id, setupLink, now)]) : [await insert];
  const row = rows[0];
  if (!row) throw new Error("tenant insert returned no row");
  return row;
}

export async function findTenant(db: Database, id: string): Promise<TenantRow | undefined> {
  return db.select().from(tenants).where(eq(tenants.id, id)).get();
}

/** The tenant and its failed-authentication aggregates, in one round trip (operator API). */
export async function findTenantWithAuthFailures(
  db: Database,
  id: string,
): Promise<{ tenant: TenantRow; authFailures: AuthFailureSummary; recentRequests: RecentRequest[] } | undefined> {
  const [tenantRows, failureRows, recentRows] = await db.batch([
    db.select().from(tenants).where(eq(tenants.id, id)),
    db.select().from(authFailures).where(eq(authFailures.tenantId, id)),
    // The newest provisioning-log rows, for the tenant's health (src/tenancy/health.ts).
    db
      .select({ at: requestLog.at, status: requestLog.status, scimType: requestLog.scimType, detail: requestLog.detail })
      .from(requestLog)
      .where(eq(requestLog.tenantId, id))
      .orderBy(desc(requestLog.seq))
      .limit(HEALTH_WINDOW),
  ]);
  const tenant = tenantRows[0];
  return tenant && { tenant, authFailures: authFailureSummary(failureRows[0]), recentRequests: recentRows };
}

/** The newest provisioning-log rows of a tenant (health), newest first. */
export async function recentRequests(db: Database, tenantId: string): Promise<RecentRequest[]> {
  return db
    .select({ at: requestLog.at, status: requestLog.status, scimType: requestLog.scimType, detail: requestLog.detail })
    .from(requestLog)
    .where(eq(requestLog.tenantId, tenantId))
    .orderBy(desc(requestLog.seq))
    .limit(HEALTH_WINDOW);
}

/** Tenants with provisioning-log rows since `since`, through the request_log_at index. */
export async function recentlyActiveTenants(db: Database, since: string, limit: number): Promise<string[]> {
  const rows = await db.selectDistinct({ tenantId: requestLog.tenantId }).from(requestLog).where(gt(requestLog.at, since)).limit(limit);
  return rows.map((row) => row.tenantId);
}

/**
 * Records a health change and its event in one batch: the event is written only when the
 * stored status differs, before the update, so concurrent sweeps announce a change once.
 */
export async function announceHealth(db: Database, tenantId: string, status: "failing" | "healthy", data: Record<string, unknown>, now: string): Promise<boolean> {
  const type = status === "failing" ? "tenant.provisioning_failing" : "tenant.provisioning_recovered";
  // "healthy" is only announced after a "failing": a tenant that never failed has nothing to recover from.
  const differs = status === "failing" ? sql`${tenants.healthStatus} IS NOT 'failing'` : sql`${tenants.healthStatus} = 'failing'`;
  const [inserted] = await db.batch([
    tenantEventInsert(db, tenantId, type, now, differs, sql`${JSON.stringify(data)}`).returning({ seq: events.seq }),
    db.update(tenants).set({ healthStatus: status }).where(and(eq(tenants.id, tenantId), differs)),
  ]);
  return inserted.length > 0;
}

/** How many of the newest logged requests the health reads. */
export const HEALTH_WINDOW = 20;

export interface RecentRequest {
  at: string;
  status: number;
  scimType: string | null;
  detail: string | null;
}

/** What D1 knows of a token hash that KV did not map to the tenant in the URL. */
export interface TokenHashLookup {
  /** The tenant whose current token it is. */
  owner: string | undefined;
  /** The tenant whose previous token it is (replaced by the last rotation). */
  previousOwner: string | undefined;
  tenantExists: boolean;
}

/**
 * One statement, three index lookups (tenants_token_hash, tenants_previous_token_hash, the
 * primary key; SQLite's multi-index OR): at most three rows.
 */
export async function lookupTokenHash(db: Database, tokenHash: string, tenantId: string): Promise<TokenHashLookup> {
  const rows = await db
    .select({
      id: tenants.id,
      current: sql<number | null>`${tenants.tokenHash} = ${tokenHash}`,
      previous: sql<number | null>`${tenants.previousTokenHash} = ${tokenHash}`,
    })
    .from(tenants)
    .where(or(eq(tenants.tokenHash, tokenHash), eq(tenants.previousTokenHash, tokenHash), eq(tenants.id, tenantId)));
  return {
    owner: rows.find((r) => r.current === 1)?.id,
    previousOwner: rows.find((r) => r.previous === 1)?.id,
    tenantExists: rows.some((r) => r.id === tenantId),
  };
}

export async function listTenants(db: Database, limit: number, offset: number): Promise<TenantRow[]> {
  return db.select().from(tenants).orderBy(desc(tenants.createdAt), tenants.id).limit(limit).offset(offset);
}

export async function updateTenantSettings(
  db: Database,
  id: string,
  changes: Partial<TenantSettings>,
  now: string,
): Promise<TenantRow | undefined> {
  const update = db
    .update(tenants)
    .set({ ...changes, updatedAt: now })
    .where(eq(tenants.id, id))
    .returning();
  if (changes.enabled === undefined) return (await update)[0];
  // Before the update, so it sees the old value: an event only when `enabled` really flips.
  const flipped = sql`${tenants.enabled} != ${changes.enabled ? 1 : 0}`;
  const [, rows] = await db.batch([tenantEventInsert(db, id, changes.enabled ? "tenant.enabled" : "tenant.disabled", now, flipped), update]);
  return rows[0];
}

/** A tenant-level event (webhooks, src/webhooks/), written only when the tenant exists and `when` holds. */
function tenantEventInsert(db: Database, tenantId: string, type: string, now: string, when: SQL = sql`1`, data: SQL = sql`NULL`) {
  const event = {
    seq: sql<number>`NULL`.as("seq"),
    tenantId: sql<string>`${tenantId}`.as("tenant_id"),
    type: sql<string>`${type}`.as("type"),
    resourceType: sql<string>`'Tenant'`.as("resource_type"),
    resourceId: sql<string>`${tenantId}`.as("resource_id"),
    at: sql<string>`${now}`.as("at"),
    data: sql<Record<string, unknown> | null>`${data}`.as("data"),
    enqueuedAt: sql<string | null>`NULL`.as("enqueued_at"),
  };
  return db.insert(events).select(db.select(event).from(tenants).where(and(eq(tenants.id, tenantId), when)));
}

/** Removes the tenant and everything it owns in one transaction. Returns its last token hash. */
export async function deleteTenantAndData(db: Database, id: string): Promise<{ deleted: boolean; tokenHash: string | null }> {
  // The tenant row first, so its result stays at index 0 as tables are added below.
  const [removedTenants] = await db.batch([
    db.delete(tenants).where(eq(tenants.id, id)).returning({ tokenHash: tenants.tokenHash }),
    db.delete(authFailures).where(eq(authFailures.tenantId, id)),
    db.delete(groupMembers).where(eq(groupMembers.tenantId, id)),
    db.delete(userEmails).where(eq(userEmails.tenantId, id)),
    db.delete(userSeqBlocks).where(eq(userSeqBlocks.tenantId, id)),
    db.delete(groupSeqBlocks).where(eq(groupSeqBlocks.tenantId, id)),
    db.delete(appAccounts).where(eq(appAccounts.tenantId, id)),
    db.delete(appGroups).where(eq(appGroups.tenantId, id)),
    db.delete(groups).where(eq(groups.tenantId, id)),
    db.delete(users).where(eq(users.tenantId, id)),
    db.delete(events).where(eq(events.tenantId, id)),
    db.delete(requestLog).where(eq(requestLog.tenantId, id)),
    db.delete(setupLinks).where(eq(setupLinks.tenantId, id)),
    ...deleteConsoleRowsOf(db, id),
    // A tenant id is never ALL_TENANTS (''), so the deployment's roles stay.
    db.delete(catalogRoles).where(eq(catalogRoles.tenantId, id)),
    db.delete(catalogEntitlements).where(eq(catalogEntitlements.tenantId, id)),
  ]);
  const removed = removedTenants[0];
  return { deleted: removed !== undefined, tokenHash: removed?.tokenHash ?? null };
}

/** SQLite evaluates SET against the old row: the previous column gets the hash being replaced. */
const keepPreviousToken = { previousTokenHash: sql`${tenants.tokenHash}` };

/**
 * Makes `token` the tenant's only valid token. Every SCIM request confirms its token
 * against this column, so the previous token stops working with this write. Returns the hash
 * this write replaced (read by the write itself: with concurrent rotations each learns its own
 * predecessor, so the caller can drop exactly that one from KV), or undefined for no tenant.
 */
export async function replaceToken(db: Database, tenantId: string, token: NewToken, now: string): Promise<{ replaced: string | null } | undefined> {
  const [rows] = await db.batch([
    db
      .update(tenants)
      .set({ ...tokenColumns(token, now), ...keepPreviousToken })
      .where(eq(tenants.id, tenantId))
      .returning({ replaced: tenants.previousTokenHash }),
    tenantEventInsert(db, tenantId, "tenant.token_rotated", now),
  ]);
  return rows[0];
}


/** The columns that make `token` current: its hash and the metadata the operator sees. */
function tokenColumns(token: NewToken, now: string) {
  return {
    tokenHash: token.hash,
    tokenPrefix: token.prefix,
    tokenLastFour: token.lastFour,
    tokenCreatedAt: now,
    tokenLastUsedAt: null,
    updatedAt: now,
  };
}

/**
 * At most one write a minute per tenant: the WHERE clause skips recent stamps. The request
 * authenticated, so the same round trip also clears the failed-authentication aggregates
 * (writes do not read the tenant row, so this is where they learn of a reset).
 */
export async function touchTokenLastUsed(db: Database, tenantId: string, tokenHash: string, now: string, notSince: string) {
  await db.batch([
    db
      .update(tenants)
      .set({ tokenLastUsedAt: now })
      .where(
        and(
          eq(tenants.id, tenantId),
          eq(tenants.tokenHash, tokenHash),
          sql`(${tenants.tokenLastUsedAt} IS NULL OR ${tenants.tokenLastUsedAt} < ${notSince})`,
        ),
      ),
    clearAuthFailures(db, tenantId),
  ]);
}

/**
 * Revokes the tenant's live link and inserts the new one: a tenant has at most one live link
 * (the partial unique index setup_links_one_live holds it even for concurrent calls).
 */
function setupLinkStatements(db: Database, tenantId: string, link: NewSetupLink, now: string) {
  return [
    revokeSetupLinksStatement(db, tenantId, now),
    db.insert(setupLinks).values({ codeHash: link.codeHash, tenantId, expiresAt: link.expiresAt, createdAt: now }),
  ] as const;
}

function revokeSetupLinksStatement(db: Database, tenantId: string, now: string) {
  return db
    .update(setupLinks)
    .set({ revokedAt: now })
    .where(and(eq(setupLinks.tenantId, tenantId), isNull(setupLinks.usedAt), isNull(setupLinks.revokedAt)));
}

/** The tenant's new setup link; the previous live one stops working in the same transaction. */
export async function replaceSetupLink(db: Database, tenantId: string, link: NewSetupLink, now: string): Promise<void> {
  await db.batch(setupLinkStatements(db, tenantId, link, now));
}

/** Revokes the tenant's live setup link, if it has one. */
export async function revokeSetupLinks(db: Database, tenantId: string, now: string): Promise<void> {
  await revokeSetupLinksStatement(db, tenantId, now);
}

/** Why a link issues nothing: used, expired, revoked (by the operator or a newer link), or its tenant is disabled. */
export type SetupLinkRefusal = "used" | "expired" | "revoked" | "disabled";

export type SetupLinkState = { tenant: TenantRow; usable: true } | { tenant: TenantRow; usable: false; reason: SetupLinkRefusal };

export async function findSetupLink(db: Database, codeHash: string, now: string): Promise<SetupLinkState | undefined> {
  const row = await db
    .select({ link: setupLinks, tenant: tenants })
    .from(setupLinks)
    .innerJoin(tenants, eq(tenants.id, setupLinks.tenantId))
    .where(eq(setupLinks.codeHash, codeHash))
    .get();
  if (!row) return undefined;
  const reason = refusalOf(row.link, row.tenant, now);
  return reason ? { tenant: row.tenant, usable: false, reason } : { tenant: row.tenant, usable: true };
}

/** In this order: a used link says so even when it has expired since. */
function refusalOf(link: typeof setupLinks.$inferSelect, tenant: TenantRow, now: string): SetupLinkRefusal | undefined {
  if (link.usedAt) return "used";
  if (link.expiresAt <= now) return "expired";
  if (link.revokedAt) return "revoked";
  if (!tenant.enabled) return "disabled";
  return undefined;
}

/**
 * Claims a setup link and applies the admin's choices with a new token, in one transaction.
 * The tenant update only matches when this very call claimed the link (`used_at = claim`),
 * so a used, expired or revoked code, or one of a disabled tenant, changes nothing. Returns
 * the tenant, or undefined when unclaimable.
 */
export async function redeemSetupLink(
  db: Database,
  codeHash: string,
  settings: Partial<TenantSettings>,
  token: NewToken,
  now: string,
  tenantId: string,
): Promise<{ tenant: TenantRow; previousTokenHash: string | null } | undefined> {
  const claim = `${now}#${crypto.randomUUID()}`;
  const claimed = sql`EXISTS (SELECT 1 FROM ${setupLinks} WHERE ${setupLinks.codeHash} = ${codeHash} AND ${setupLinks.usedAt} = ${claim})`;
  const [previous, , updated] = await db.batch([
    db
      .select({ tokenHash: tenants.tokenHash })
      .from(tenants)
      .innerJoin(setupLinks, eq(setupLinks.tenantId, tenants.id))
      .where(eq(setupLinks.codeHash, codeHash)),
    db
      .update(setupLinks)
      .set({ usedAt: claim })
      .where(
        and(
          eq(setupLinks.codeHash, codeHash),
          isNull(setupLinks.usedAt),
          isNull(setupLinks.revokedAt),
          gt(setupLinks.expiresAt, now),
          // A disabled tenant issues nothing, even when it was disabled after the page was shown.
          sql`EXISTS (SELECT 1 FROM ${tenants} WHERE ${tenants.id} = ${setupLinks.tenantId} AND ${tenants.enabled} = 1)`,
        ),
      ),
    db
      .update(tenants)
      .set({ ...settings, ...tokenColumns(token, now), ...keepPreviousToken })
      .where(and(sql`${tenants.id} = (SELECT ${setupLinks.tenantId} FROM ${setupLinks} WHERE ${setupLinks.codeHash} = ${codeHash})`, claimed))
      .returning(),
    // The admin's new token replaced the tenant's: the operator hears of it as of a rotation.
    tenantEventInsert(db, tenantId, "tenant.token_rotated", now, claimed),
  ]);
  const tenant = updated[0];
  if (!tenant) return undefined;
  return { tenant, previousTokenHash: previous[0]?.tokenHash ?? null };
}
