/**
 * Moving a tenant's data from one shard to another (POST /admin/tenants/{id}/move), run by the
 * tenant's Durable Object so its group writes wait in the object's queue meanwhile:
 * 1. the old shard copy gets `moving_to`: every write's guard refuses it from that commit on
 *    (503, Retry-After: 1), reads keep answering from the old shard;
 * 2. the target is cleared of anything of the tenant's (a failed earlier move), then each table
 *    is copied in bounded pages: COPY_PAGE rows read per round trip, written in one target batch
 *    (statements under D1's 100 bound parameters);
 * 3. the old copy becomes a tombstone (`shard` = the target): a request that still resolves the
 *    old shard (another isolate's memory) is answered 503 and learns the new placement;
 * 4. the directory's placement switches; then the old shard's data is deleted (the tombstone row
 *    stays, so late requests keep being redirected).
 * A failure before step 3 deletes what was copied and clears `moving_to`: the tenant stays whole
 * on its old shard, and the move may be retried.
 *
 * `seq` values (users, groups, events, log) are unique per database, not per tenant, so copies
 * are shifted by one offset per table that puts them above everything in the target: the order
 * within the tenant is kept and no value gets smaller, so a feed cursor (`after=<seq>`) never skips
 * an event (it may see moved ones again, under new seqs). Pending webhook deliveries follow their
 * events' new seqs; paging blocks are recounted in the target.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import { MAX_BOUND_PARAMETERS } from "./chunk";
import type { Database } from "./database";
import { SEQ_BLOCK_SIZE, tenants, webhookDeliveries } from "./schema";
import { deleteTenantData } from "./tenants";

/** Rows read per round trip from the old shard. */
export const COPY_PAGE = 500;

/** Tenant tables copied row by row; `seq` tables are shifted (see the file comment). The tenant row comes last. */
const COPIED: { table: string; seq: boolean }[] = [
  { table: "users", seq: true },
  { table: "groups", seq: true },
  { table: "user_emails", seq: false },
  { table: "group_members", seq: false },
  { table: "app_accounts", seq: false },
  { table: "app_groups", seq: false },
  { table: "events", seq: true },
  { table: "request_log", seq: true },
  { table: "auth_failures", seq: false },
  // The tenant's own roles and entitlements (issue 12); the deployment's ('' tenant) are on every shard.
  { table: "catalog_roles", seq: false },
  { table: "catalog_entitlements", seq: false },
];

type Row = Record<string, unknown>;

export interface MoveDatabases {
  directory: Database;
  from: { name: string; db: Database };
  to: { name: string; db: Database };
}

export interface MoveReport {
  rows: Record<string, number>;
  roundTrips: number;
}

async function all(db: Database, query: SQL): Promise<Row[]> {
  return db.all<Row>(query);
}

/**
 * Inserts of rows as read, through the D1 client itself: the copy is column-generic (names from
 * the rows D1 returned, never from input), which drizzle's typed inserts are not.
 */
function insertStatements(db: Database, table: string, rows: readonly Row[], verb = "INSERT"): D1PreparedStatement[] {
  const first = rows[0];
  if (!first) return [];
  const columns = Object.keys(first);
  const perStatement = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / columns.length));
  const quoted = columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(", ");
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    const slice = rows.slice(i, i + perStatement);
    const placeholders = slice.map(() => `(${columns.map(() => "?").join(", ")})`).join(", ");
    statements.push(db.$client.prepare(`${verb} INTO "${table}" (${quoted}) VALUES ${placeholders}`).bind(...slice.flatMap((row) => columns.map((c) => row[c] ?? null))));
  }
  return statements;
}

/** The shift that puts the tenant's seqs above the target's (0 when they already are). */
async function seqOffset(from: Database, to: Database, table: string, tenantId: string): Promise<number> {
  const [source] = await all(from, sql`SELECT coalesce(min(seq), 0) AS low FROM ${sql.identifier(table)} WHERE tenant_id = ${tenantId}`);
  const [target] = await all(to, sql`SELECT coalesce(max(seq), 0) AS high FROM ${sql.identifier(table)}`);
  return Math.max(0, Number(target?.high ?? 0) - Number(source?.low ?? 0) + 1);
}

/** Copies one table's rows of the tenant page by page (keyset on rowid). Returns rows copied and round trips. */
async function copyTable(
  { from, to }: MoveDatabases,
  tenantId: string,
  { table, seq }: { table: string; seq: boolean },
  offset: number,
  beforeWrite: () => Promise<void>,
): Promise<{ rows: number; roundTrips: number }> {
  let after = -1;
  let copied = 0;
  let roundTrips = 0;
  for (;;) {
    const page = await all(from.db, sql`SELECT rowid AS "__rowid", * FROM ${sql.identifier(table)} WHERE tenant_id = ${tenantId} AND rowid > ${after} ORDER BY rowid LIMIT ${COPY_PAGE}`);
    roundTrips += 1;
    const last = page.at(-1);
    if (!last) return { rows: copied, roundTrips };
    after = Number(last.__rowid);
    const rows = page.map(({ __rowid: _r, ...row }) => (seq ? { ...row, seq: Number(row.seq) + offset } : row));
    const statements = insertStatements(to.db, table, rows);
    if (statements.length > 0) {
      await beforeWrite();
      await to.db.$client.batch(statements);
      roundTrips += 1;
    }
    copied += rows.length;
    if (page.length < COPY_PAGE) return { rows: copied, roundTrips };
  }
}

/** Live users and groups per block of the copied seqs (seq-blocks.ts), recounted in the target. */
function recountBlocks(db: Database, tenantId: string): D1PreparedStatement[] {
  return [
    ["user_seq_blocks", "users"],
    ["group_seq_blocks", "groups"],
  ].map(([blocks, source]) =>
    db.$client
      .prepare(`INSERT INTO "${blocks}" (tenant_id, block, live) SELECT tenant_id, seq / ${SEQ_BLOCK_SIZE}, count(*) FROM "${source}" WHERE tenant_id = ? GROUP BY seq / ${SEQ_BLOCK_SIZE}`)
      .bind(tenantId),
  );
}

/**
 * Moves the tenant (see the file comment). `beforeWrite` runs before each write to the target
 * (tests inject a failure there). Throws when the tenant is not on `from` or is already moving.
 */
export async function moveTenantData(dbs: MoveDatabases, tenantId: string, beforeWrite: () => Promise<void> = () => Promise.resolve()): Promise<MoveReport> {
  const { directory, from, to } = dbs;
  const marked = await from.db
    .update(tenants)
    .set({ movingTo: to.name })
    .where(and(eq(tenants.id, tenantId), eq(tenants.shard, from.name), sql`${tenants.movingTo} IS NULL`))
    .returning({ id: tenants.id });
  if (marked.length === 0) throw new Error(`tenant ${tenantId} is not on ${from.name} or is already moving`);
  const report: MoveReport = { rows: {}, roundTrips: 1 };
  const offsets: Record<string, number> = {};
  try {
    await deleteTenantData(to.db, tenantId, { keepRow: true });
    for (const spec of COPIED) {
      offsets[spec.table] = spec.seq ? await seqOffset(from.db, to.db, spec.table, tenantId) : 0;
      const copied = await copyTable(dbs, tenantId, spec, offsets[spec.table] ?? 0, beforeWrite);
      report.rows[spec.table] = copied.rows;
      report.roundTrips += copied.roundTrips + (spec.seq ? 2 : 0);
    }
    const [row] = await all(from.db, sql`SELECT * FROM ${tenants} WHERE id = ${tenantId}`);
    if (!row) throw new Error("the tenant row vanished during the move");
    await beforeWrite();
    // OR REPLACE: a target that is the directory (DB) already holds the tenant's directory row.
    await to.db.$client.batch([...insertStatements(to.db, "tenants", [{ ...row, shard: to.name, moving_to: null }], "INSERT OR REPLACE"), ...recountBlocks(to.db, tenantId)]);
    report.roundTrips += 2;
  } catch (error) {
    // Nothing switched yet: the tenant is whole on its old shard. Best effort on the target.
    await deleteTenantData(to.db, tenantId, { keepRow: true }).catch((e: unknown) => console.error("move cleanup failed", e));
    await from.db.update(tenants).set({ movingTo: null }).where(eq(tenants.id, tenantId));
    throw error;
  }
  // The tombstone first, then the placement: a request on the old shard is redirected from here on.
  await from.db.update(tenants).set({ shard: to.name }).where(eq(tenants.id, tenantId));
  await directory.batch([
    directory.update(tenants).set({ shard: to.name }).where(eq(tenants.id, tenantId)),
    directory
      .update(webhookDeliveries)
      .set({ eventSeq: sql`${webhookDeliveries.eventSeq} + ${offsets.events ?? 0}` })
      .where(and(eq(webhookDeliveries.tenantId, tenantId), sql`${webhookDeliveries.eventSeq} IS NOT NULL`)),
  ]);
  // A rotation that reached the old copy after it was read: the newer token columns win.
  await syncTokenColumns(from.db, to.db, tenantId);
  // The old row stays as the tombstone (when the old shard is DB it is the directory row itself).
  await deleteTenantData(from.db, tenantId, { keepRow: true });
  report.roundTrips += 4;
  return report;
}

async function syncTokenColumns(from: Database, to: Database, tenantId: string): Promise<void> {
  const old = await from.select().from(tenants).where(eq(tenants.id, tenantId)).get();
  const moved = await to.select({ tokenVersion: tenants.tokenVersion }).from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!old || !moved || old.tokenVersion <= moved.tokenVersion) return;
  await to
    .update(tenants)
    .set({ tokenHash: old.tokenHash, previousTokenHash: old.previousTokenHash, tokenVersion: old.tokenVersion, enabled: old.enabled, userSync: old.userSync, groupSync: old.groupSync })
    .where(eq(tenants.id, tenantId));
}
