/**
 * Tenant rows, token metadata and setup links. Every function takes the tenant id it acts on.
 * `directory` is the directory database, `shard` the tenant's shard (storage/shards.ts); the
 * shard copy of the row and the order of the two writes are explained in tenant-state.ts.
 */
import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { type AuthFailureSummary, clearAuthFailures, authFailureSummary } from "./auth-failures";
import { deleteConsoleRowsOf } from "./console-sessions";
import type { Database } from "./database";
import { appAccounts, authFailures, appGroups, catalogEntitlements, catalogRoles, events, groupMembers, groups, groupSeqBlocks, requestLog, setupLinks, tenants, userEmails, userSeqBlocks, users } from "./schema";
import { directoryTokenUpdate, mirrorSettings, shardCopyInsert, shardStateQuery, shardTokenUpdate, tenantEventInsert, withShardState } from "./tenant-state";

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

/**
 * Inserts the tenant placed on `shard`: its shard copy first (a tenant the directory does not
 * list yet is unreachable), then the directory row with its first setup link, if any, in one
 * transaction.
 */
export async function insertTenant(
  { directory, shard }: { directory: Database; shard: { name: string; db: Database } },
  id: string,
  settings: TenantSettings,
  token: NewToken,
  now: string,
  setupLink?: NewSetupLink,
): Promise<TenantRow> {
  const values = { id, ...settings, ...tokenColumns(token, now), shard: shard.name, createdAt: now };
  const [row] = await shard.db.insert(tenants).values(values).onConflictDoNothing({ target: tenants.id }).returning();
  if (!row) throw new Error("tenant insert returned no row");
  const directoryInsert = shardCopyInsert(directory, row);
  if (setupLink) await directory.batch([directoryInsert, ...setupLinkStatements(directory, id, setupLink, now)]);
  else await directoryInsert;
  return row;
}

export async function findTenant(db: Database, id: string): Promise<TenantRow | undefined> {
  return db.select().from(tenants).where(eq(tenants.id, id)).get();
}

/** The tenant (directory row and shard state) and its failed-authentication aggregates (operator API). */
export async function findTenantWithAuthFailures(
  tenant: TenantRow,
  db: Database,
): Promise<{ tenant: TenantRow; authFailures: AuthFailureSummary; recentRequests: RecentRequest[] }> {
  const id = tenant.id;
  const [stateRows, failureRows, recentRows] = await db.batch([
    shardStateQuery(db, id),
    db.select().from(authFailures).where(eq(authFailures.tenantId, id)),
    // The newest provisioning-log rows, for the tenant's health (src/tenancy/health.ts).
    db
      .select({ at: requestLog.at, status: requestLog.status, scimType: requestLog.scimType, detail: requestLog.detail })
      .from(requestLog)
      .where(eq(requestLog.tenantId, id))
      .orderBy(desc(requestLog.seq))
      .limit(HEALTH_WINDOW),
  ]);
  return { tenant: withShardState(tenant, stateRows[0]), authFailures: authFailureSummary(failureRows[0]), recentRequests: recentRows };
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

/**
 * Shard copy first (disabling or turning sync off refuses the very next request), with the
 * tenant.enabled/disabled event in the same batch; then the directory row, returned.
 */
export async function updateTenantSettings(
  { directory, shard }: { directory: Database; shard: Database },
  id: string,
  changes: Partial<TenantSettings>,
  now: string,
): Promise<TenantRow | undefined> {
  const mirror = mirrorSettings(shard, id, { ...changes, updatedAt: now });
  if (changes.enabled === undefined) await mirror;
  else {
    // Before the update, so it sees the old value: an event only when `enabled` really flips.
    const flipped = sql`${tenants.enabled} != ${changes.enabled ? 1 : 0}`;
    await shard.batch([tenantEventInsert(shard, id, changes.enabled ? "tenant.enabled" : "tenant.disabled", now, flipped), mirror]);
  }
  const [row] = await directory
    .update(tenants)
    .set({ ...changes, updatedAt: now })
    .where(eq(tenants.id, id))
    .returning();
  return row;
}

/**
 * Removes the tenant and everything it owns: its shard's data and copy in one transaction
 * first (its token stops working there), then the directory row and its setup links.
 */
export async function deleteTenantAndData({ directory, shard }: { directory: Database; shard: Database }, id: string): Promise<void> {
  await deleteTenantData(shard, id);
  await directory.batch([
    directory.delete(tenants).where(eq(tenants.id, id)),
    directory.delete(setupLinks).where(eq(setupLinks.tenantId, id)),
    ...deleteConsoleRowsOf(directory, id),
  ]);
}

/**
 * Everything of one tenant in one shard, its shard copy of the row included unless `keepRow`
 * (a move keeps it as the redirecting tombstone), in one transaction.
 */
export async function deleteTenantData(db: Database, id: string, { keepRow = false } = {}): Promise<void> {
  await db.batch([
    keepRow ? db.delete(tenants).where(sql`0`) : db.delete(tenants).where(eq(tenants.id, id)),
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
    // A tenant id is never ALL_TENANTS (''), so the deployment's roles (copied to every shard) stay.
    db.delete(catalogRoles).where(eq(catalogRoles.tenantId, id)),
    db.delete(catalogEntitlements).where(eq(catalogEntitlements.tenantId, id)),
  ]);
}

/**
 * Makes `token` the tenant's only valid token. Every SCIM request confirms its token
 * against this column, so the previous token stops working with this write. Returns the hash
 * this write replaced (read by the write itself: with concurrent rotations each learns its own
 * predecessor, so the caller can drop exactly that one from KV), or undefined for no tenant.
 */
export async function replaceToken(
  { directory, shard }: { directory: Database; shard: Database },
  tenantId: string,
  token: NewToken,
  now: string,
  settings: Partial<TenantSettings> = {},
): Promise<{ replaced: string | null } | undefined> {
  const columns = { ...settings, ...tokenColumns(token, now) };
  // The shard copy first: from its commit on, the old token is refused by every request's batch.
  const [rows] = await shard.batch([shardTokenUpdate(shard, tenantId, columns), tenantEventInsert(shard, tenantId, "tenant.token_rotated", now)]);
  const written = rows[0];
  if (!written) return undefined;
  await directoryTokenUpdate(directory, tenantId, columns, written.replaced, written.version);
  return { replaced: written.replaced };
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
export async function touchTokenLastUsed(/** the tenant's shard: "last used" is kept in its copy */ db: Database, tenantId: string, tokenHash: string, now: string, notSince: string) {
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
 * Claims a setup link and applies the admin's choices with a new token. The directory batch
 * claims the link and applies the settings only when this very call claimed it (`used_at =
 * claim`), so a used, expired or revoked code, or one of a disabled tenant, changes nothing.
 * The token then replaces the tenant's as a rotation does (shard copy first, with its
 * tenant.token_rotated event), before the new token is handed out. Returns the tenant (its
 * directory row), or undefined when unclaimable.
 */
export async function redeemSetupLink(
  { directory, shard }: { directory: Database; shard: Database },
  codeHash: string,
  settings: Partial<TenantSettings>,
  token: NewToken,
  now: string,
): Promise<{ tenant: TenantRow; previousTokenHash: string | null } | undefined> {
  const claim = `${now}#${crypto.randomUUID()}`;
  const claimed = sql`EXISTS (SELECT 1 FROM ${setupLinks} WHERE ${setupLinks.codeHash} = ${codeHash} AND ${setupLinks.usedAt} = ${claim})`;
  const [, updated] = await directory.batch([
    directory
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
    directory
      .update(tenants)
      .set({ ...settings, updatedAt: now })
      .where(and(sql`${tenants.id} = (SELECT ${setupLinks.tenantId} FROM ${setupLinks} WHERE ${setupLinks.codeHash} = ${codeHash})`, claimed))
      .returning({ id: tenants.id }),
  ]);
  const tenantId = updated[0]?.id;
  if (!tenantId) return undefined;
  // The admin's new token replaces the tenant's: the operator hears of it as of a rotation.
  const written = await replaceToken({ directory, shard }, tenantId, token, now, settings);
  const tenant = await findTenant(directory, tenantId);
  if (!written || !tenant) return undefined;
  return { tenant, previousTokenHash: written.replaced };
}
