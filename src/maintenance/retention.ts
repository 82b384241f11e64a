/**
 * Retention, run by the Cron Trigger (wrangler.toml `[triggers]`): events and provisioning-log
 * rows older than EVENT_RETENTION_DAYS / LOG_RETENTION_DAYS (default 30 days, like WorkOS's
 * events API) are deleted. D1 runs one query at a time for every tenant, so a run is bounded:
 * each statement deletes at most RETENTION_BATCH_ROWS rows, and a run sends at most
 * RETENTION_STATEMENTS_PER_TABLE statements per table, each its own short transaction so
 * tenants' requests interleave. A backlog larger than one run's bound is continued by the
 * next run, oldest first.
 */
import type { Database } from "../storage/database";
import { everyShard } from "../storage/shards";
import { deleteOldestBefore, type DeleteResult, type RetainedTable } from "../storage/retention";

export const RETENTION_BATCH_ROWS = 5_000;
export const RETENTION_STATEMENTS_PER_TABLE = 10;
export const DEFAULT_RETENTION_DAYS = 30;
const MAX_RETENTION_DAYS = 36_500;
const DAY_MS = 86_400_000;

/** Days to keep: a whole number of days ≥ 1; anything else falls back to the default, with a warning. */
export function retentionDays(name: string, value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_RETENTION_DAYS;
  const days = Number(value);
  if (Number.isInteger(days) && days >= 1 && days <= MAX_RETENTION_DAYS) return days;
  console.warn(`${name}=${JSON.stringify(value)} is not a whole number of days in [1, ${MAX_RETENTION_DAYS}]; keeping ${DEFAULT_RETENTION_DAYS} days`);
  return DEFAULT_RETENTION_DAYS;
}

export interface TableReport extends DeleteResult {
  table: RetainedTable;
  /** The shard pruned (events and the log are tenant data, storage/shards.ts). */
  shard: string;
  cutoff: string;
  statements: number;
}

async function pruneTable({ shard, db }: { shard: string; db: Database }, table: RetainedTable, cutoff: string): Promise<TableReport> {
  const report: TableReport = { table, shard, cutoff, statements: 0, deleted: 0, rowsRead: 0, rowsWritten: 0 };
  while (report.statements < RETENTION_STATEMENTS_PER_TABLE) {
    const result = await deleteOldestBefore(db, table, cutoff, RETENTION_BATCH_ROWS);
    report.statements += 1;
    report.deleted += result.deleted;
    report.rowsRead += result.rowsRead;
    report.rowsWritten += result.rowsWritten;
    if (result.deleted < RETENTION_BATCH_ROWS) break; // nothing older is left
  }
  return report;
}

/** One retention run at `now` (the cron's scheduled time, in ms). */
export async function pruneExpired(env: Cloudflare.Env, now: number): Promise<TableReport[]> {
  const cutoff = (days: number) => new Date(now - days * DAY_MS).toISOString();
  const reports: TableReport[] = [];
  // Each shard on its own: a shard's bound is the same as one database's before sharding.
  for (const shard of everyShard(env)) {
    reports.push(await pruneTable(shard, "events", cutoff(retentionDays("EVENT_RETENTION_DAYS", env.EVENT_RETENTION_DAYS))));
    reports.push(await pruneTable(shard, "requestLog", cutoff(retentionDays("LOG_RETENTION_DAYS", env.LOG_RETENTION_DAYS))));
  }
  console.log(JSON.stringify({ retention: reports }));
  return reports;
}
