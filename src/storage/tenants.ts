/** Tenant rows, token metadata and setup links. Every function takes the tenant id it acts on. */
import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Database } from "./database";
import { appAccounts, appGroups, events, groupMembers, groups, groupSeqBlocks, requestLog, setupLinks, tenants, userEmails, userSeqBlocks, users } from "./schema";

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
}

export interface NewToken {
  hash: string;
  prefix: string;
  lastFour: string;
}

export async function insertTenant(
  db: Database,
  id: string,
  settings: TenantSettings,
  token: NewToken,
  now: string,
): Promise<TenantRow> {
  const [row] = await db
    .insert(tenants)
    .values({ id, ...settings, ...tokenColumns(token, now), createdAt: now })
    .returning();
  if (!row) throw new Error("tenant insert returned no row");
  return row;
}

export async function findTenant(db: Database, id: string): Promise<TenantRow | undefined> {
  return db.select().from(tenants).where(eq(tenants.id, id)).get();
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
  const [row] = await db
    .update(tenants)
    .set({ ...changes, updatedAt: now })
    .where(eq(tenants.id, id))
    .returning();
  return row;
}

/** Removes the tenant and everything it owns in one transaction. Returns its last token hash. */
export async function deleteTenantAndData(db: Database, id: string): Promise<{ deleted: boolean; tokenHash: string | null }> {
  // The tenant row first, so its result stays at index 0 as tables are added below.
  const [removedTenants] = await db.batch([
    db.delete(tenants).where(eq(tenants.id, id)).returning({ tokenHash: tenants.tokenHash }),
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
  ]);
  const removed = removedTenants[0];
  return { deleted: removed !== undefined, tokenHash: removed?.tokenHash ?? null };
}

/**
 * Makes `token` the tenant's only valid token. Every SCIM request confirms its token
 * against this column, so the previous token stops working with this write.
 */
export async function replaceToken(db: Database, tenantId: string, token: NewToken, now: string): Promise<void> {
  await db.update(tenants).set(tokenColumns(token, now)).where(eq(tenants.id, tenantId));
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

/** At most one write a minute per tenant: the WHERE clause skips recent stamps. */
export async function touchTokenLastUsed(db: Database, tenantId: string, tokenHash: string, now: string, notSince: string) {
  await db
    .update(tenants)
    .set({ tokenLastUsedAt: now })
    .where(
      and(
        eq(tenants.id, tenantId),
        eq(tenants.tokenHash, tokenHash),
        sql`(${tenants.tokenLastUsedAt} IS NULL OR ${tenants.tokenLastUsedAt} < ${notSince})`,
      ),
    );
}

export async function insertSetupLink(db: Database, tenantId: string, codeHash: string, expiresAt: string, now: string) {
  await db.insert(setupLinks).values({ codeHash, tenantId, expiresAt, createdAt: now });
}

export interface SetupLinkState {
  tenant: TenantRow;
  usable: boolean;
  reason?: "used" | "expired";
}

export async function findSetupLink(db: Database, codeHash: string, now: string): Promise<SetupLinkState | undefined> {
  const row = await db
    .select({ link: setupLinks, tenant: tenants })
    .from(setupLinks)
    .innerJoin(tenants, eq(tenants.id, setupLinks.tenantId))
    .where(eq(setupLinks.codeHash, codeHash))
    .get();
  if (!row) return undefined;
  if (row.link.usedAt) return { tenant: row.tenant, usable: false, reason: "used" };
  if (row.link.expiresAt <= now) return { tenant: row.tenant, usable: false, reason: "expired" };
  return { tenant: row.tenant, usable: true };
}

/**
 * Claims a setup link and applies the admin's choices with a new token, in one transaction.
 * The tenant update only matches when this very call claimed the link (`used_at = claim`),
 * so a used or expired code changes nothing. Returns the tenant, or undefined when unclaimable.
 */
export async function redeemSetupLink(
  db: Database,
  codeHash: string,
  settings: Partial<TenantSettings>,
  token: NewToken,
  now: string,
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
      .where(and(eq(setupLinks.codeHash, codeHash), isNull(setupLinks.usedAt), gt(setupLinks.expiresAt, now))),
    db
      .update(tenants)
      .set({ ...settings, ...tokenColumns(token, now) })
      .where(and(sql`${tenants.id} = (SELECT ${setupLinks.tenantId} FROM ${setupLinks} WHERE ${setupLinks.codeHash} = ${codeHash})`, claimed))
      .returning(),
  ]);
  const tenant = updated[0];
  if (!tenant) return undefined;
  return { tenant, previousTokenHash: previous[0]?.tokenHash ?? null };
}
