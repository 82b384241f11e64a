/**
 * Console sign-in links and sessions (migrations/0014). Only SHA-256 hashes of the secrets are
 * stored; every function takes the hash, never the secret. A link is claimed and its session
 * created in one batch, so a link opens at most one session even when two sign-ins race.
 */
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import type { Database } from "./database";
import { consoleLinks, consoleSessions, tenants } from "./schema";
import type { TenantRow } from "./tenants";

export interface NewConsoleLink {
  codeHash: string;
  expiresAt: string;
}

export async function insertConsoleLink(db: Database, tenantId: string, link: NewConsoleLink, now: string): Promise<void> {
  await db.insert(consoleLinks).values({ codeHash: link.codeHash, tenantId, expiresAt: link.expiresAt, createdAt: now });
}

export type ConsoleLinkState = { usable: true; tenant: TenantRow } | { usable: false; reason: "used" | "expired"; tenant: TenantRow };

export async function findConsoleLink(db: Database, codeHash: string, now: string): Promise<ConsoleLinkState | undefined> {
  const row = await db
    .select({ link: consoleLinks, tenant: tenants })
    .from(consoleLinks)
    .innerJoin(tenants, eq(tenants.id, consoleLinks.tenantId))
    .where(eq(consoleLinks.codeHash, codeHash))
    .get();
  if (!row) return undefined;
  if (row.link.usedAt) return { usable: false, reason: "used", tenant: row.tenant };
  if (row.link.expiresAt <= now) return { usable: false, reason: "expired", tenant: row.tenant };
  return { usable: true, tenant: row.tenant };
}

/**
 * Claims the link and creates the session in one transaction: the session row is selected
 * from the link this very call claimed (`used_at = claim`), so a used or expired link creates
 * nothing. The same batch drops the tenant's expired sessions, so they never pile up.
 * Returns the tenant id, or undefined when the link was not claimable.
 */
export async function redeemConsoleLink(
  db: Database,
  codeHash: string,
  session: { idHash: string; expiresAt: string },
  now: string,
): Promise<string | undefined> {
  const claim = `${now}#${crypto.randomUUID()}`;
  const [claimed] = await db.batch([
    db
      .update(consoleLinks)
      .set({ usedAt: claim })
      .where(and(eq(consoleLinks.codeHash, codeHash), isNull(consoleLinks.usedAt), sql`${consoleLinks.expiresAt} > ${now}`))
      .returning({ tenantId: consoleLinks.tenantId }),
    db.insert(consoleSessions).select(
      db
        .select({
          idHash: sql<string>`${session.idHash}`.as("id_hash"),
          tenantId: consoleLinks.tenantId,
          createdAt: sql<string>`${now}`.as("created_at"),
          lastSeenAt: sql<string>`${now}`.as("last_seen_at"),
          expiresAt: sql<string>`${session.expiresAt}`.as("expires_at"),
        })
        .from(consoleLinks)
        .where(and(eq(consoleLinks.codeHash, codeHash), eq(consoleLinks.usedAt, claim))),
    ),
    db
      .delete(consoleSessions)
      .where(
        and(
          sql`${consoleSessions.tenantId} = (SELECT ${consoleLinks.tenantId} FROM ${consoleLinks} WHERE ${consoleLinks.codeHash} = ${codeHash})`,
          lt(consoleSessions.expiresAt, now),
        ),
      ),
  ]);
  return claimed[0]?.tenantId;
}

export interface ConsoleSessionRow {
  idHash: string;
  tenant: TenantRow;
  lastSeenAt: string;
  expiresAt: string;
}

/** The live session with this hash and its tenant; undefined when unknown, expired or revoked. */
export async function findConsoleSession(db: Database, idHash: string, now: string): Promise<ConsoleSessionRow | undefined> {
  const row = await db
    .select({ session: consoleSessions, tenant: tenants })
    .from(consoleSessions)
    .innerJoin(tenants, eq(tenants.id, consoleSessions.tenantId))
    .where(and(eq(consoleSessions.idHash, idHash), sql`${consoleSessions.expiresAt} > ${now}`))
    .get();
  return row && { idHash, tenant: row.tenant, lastSeenAt: row.session.lastSeenAt, expiresAt: row.session.expiresAt };
}

/** Slides the session's expiry (the caller limits how often). */
export async function extendConsoleSession(db: Database, idHash: string, now: string, expiresAt: string): Promise<void> {
  await db.update(consoleSessions).set({ lastSeenAt: now, expiresAt }).where(eq(consoleSessions.idHash, idHash));
}

export async function deleteConsoleSession(db: Database, idHash: string): Promise<void> {
  await db.delete(consoleSessions).where(eq(consoleSessions.idHash, idHash));
}

/** Signs every console session of the tenant out, and voids its unused sign-in links, in one batch. */
export async function revokeConsoleAccess(db: Database, tenantId: string): Promise<void> {
  await db.batch([
    db.delete(consoleSessions).where(eq(consoleSessions.tenantId, tenantId)),
    db.delete(consoleLinks).where(and(eq(consoleLinks.tenantId, tenantId), isNull(consoleLinks.usedAt))),
  ]);
}

/** The statements that remove a deleted tenant's console rows (its deletion batch). */
export function deleteConsoleRowsOf(db: Database, tenantId: string) {
  return [
    db.delete(consoleSessions).where(eq(consoleSessions.tenantId, tenantId)),
    db.delete(consoleLinks).where(eq(consoleLinks.tenantId, tenantId)),
  ] as const;
}
