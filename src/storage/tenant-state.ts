/**
 * The shard copy of a tenant's row (storage/shards.ts). Every database has a `tenants` table;
 * in the tenant's shard its row holds what the request's own batch needs: the token hash (and
 * the previous one), `enabled`, the sync flags and the settings writes read (default role,
 * domains, linking), plus the counters, the health status and "last used", which only the
 * shard's writes keep. The directory row holds the rest and the placement. When the shard is
 * `DB` itself both are the same row, and every write below is still right for it.
 *
 * Write order, so that no window lets an old token (or a disabled tenant) write: a change that
 * takes a right away (rotation, disable, sync off, deletion) is written to the **shard copy
 * first**, the row every request's batch checks, and then to the directory. Until the shard
 * write commits the old state holds everywhere; from it on the very next request is refused,
 * whatever the directory and KV still say. A failure between the two leaves the directory
 * behind (a rotation's new token then works by KV, and the operator may simply retry).
 */
import { and, eq, inArray, lt, type SQL, sql } from "drizzle-orm";
import { chunk } from "./chunk";
import type { Database } from "./database";
import { events, tenants } from "./schema";
import type { TenantRow } from "./tenants";

/** What only the shard copy keeps current; the operator's views take these from it. */
const SHARD_STATE = {
  id: tenants.id,
  userCount: tenants.userCount,
  activeUserCount: tenants.activeUserCount,
  groupCount: tenants.groupCount,
  userDocChars: tenants.userDocChars,
  healthStatus: tenants.healthStatus,
  tokenLastUsedAt: tenants.tokenLastUsedAt,
};
export type ShardState = { [K in keyof typeof SHARD_STATE]: TenantRow[K] };

/** The shard copy of a new tenant; a shard that is the directory already has the row. */
export function shardCopyInsert(db: Database, row: TenantRow) {
  return db.insert(tenants).values(row).onConflictDoNothing({ target: tenants.id });
}

export function shardStateQuery(db: Database, tenantId: string) {
  return db.select(SHARD_STATE).from(tenants).where(eq(tenants.id, tenantId));
}

/** The directory row with the shard copy's counters, health and "last used". */
export function withShardState(row: TenantRow, state: ShardState | undefined): TenantRow {
  if (!state) return row;
  const { id: _id, ...fields } = state;
  return { ...row, ...fields };
}

/** Shard states of many tenants of one shard (the operator's list), 90 ids per statement. */
export async function shardStates(db: Database, tenantIds: readonly string[]): Promise<Map<string, ShardState>> {
  const found = new Map<string, ShardState>();
  for (const ids of chunk(tenantIds, 90)) {
    for (const state of await db.select(SHARD_STATE).from(tenants).where(inArray(tenants.id, [...ids]))) found.set(state.id, state);
  }
  return found;
}

/** Settings and flags mirrored into the shard copy (the directory's own columns stay there). */
export function mirrorSettings(db: Database, tenantId: string, changes: Partial<TenantRow>) {
  return db.update(tenants).set(changes).where(eq(tenants.id, tenantId));
}

/**
 * The shard half of a token change: the copy every request checks takes the new hash (the old
 * one kept as previous, for a "rotated" refusal) and a new token_version, which it returns with
 * the hash replaced. SQLite evaluates SET against the old row.
 */
export function shardTokenUpdate(db: Database, tenantId: string, columns: Partial<TenantRow>) {
  return db
    .update(tenants)
    .set({ ...columns, previousTokenHash: sql`${tenants.tokenHash}`, tokenVersion: sql`${tenants.tokenVersion} + 1` })
    .where(eq(tenants.id, tenantId))
    .returning({ replaced: tenants.previousTokenHash, version: tenants.tokenVersion });
}

/**
 * The directory half, after the shard's: only moves forward (concurrent rotations may reach
 * the directory in the other order), so the directory ends on the token the shard ends on.
 */
export function directoryTokenUpdate(db: Database, tenantId: string, columns: Partial<TenantRow>, replaced: string | null, version: number) {
  return db
    .update(tenants)
    .set({ ...columns, previousTokenHash: replaced, tokenVersion: version })
    .where(and(eq(tenants.id, tenantId), lt(tenants.tokenVersion, version)));
}

/** A tenant-level event (webhooks, src/webhooks/), in the shard, only when the tenant's copy exists and `when` holds. */
export function tenantEventInsert(db: Database, tenantId: string, type: string, now: string, when: SQL = sql`1`, data: SQL = sql`NULL`) {
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
