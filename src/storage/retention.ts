/**
 * Deletes for retention: the oldest rows of the event feed and of the provisioning log,
 * across every tenant (they share the database and its 10 GB). One call is one statement
 * that deletes at most `limit` rows, found through a range of the table's `at` index
 * (events_at, request_log_at): the work is bounded by `limit`, whatever the table's size.
 */
import { inArray, lt } from "drizzle-orm";
import type { Database } from "./database";
import { events, requestLog } from "./schema";

export const RETAINED_TABLES = { events, requestLog } as const;
export type RetainedTable = keyof typeof RETAINED_TABLES;

export interface DeleteResult {
  deleted: number;
  /** D1's meta for the statement: the index rows scanned, and every row and index entry changed. */
  rowsRead: number;
  rowsWritten: number;
}

/** Deletes up to `limit` rows written before `cutoff` (an ISO timestamp), oldest first. */
export async function deleteOldestBefore(db: Database, table: RetainedTable, cutoff: string, limit: number): Promise<DeleteResult> {
  const t = RETAINED_TABLES[table];
  // SQLite has no DELETE … LIMIT by default: the bound is the subquery's.
  const oldest = db.select({ seq: t.seq }).from(t).where(lt(t.at, cutoff)).orderBy(t.at).limit(limit);
  const { meta } = await db.delete(t).where(inArray(t.seq, oldest));
  return { deleted: meta.changes, rowsRead: meta.rows_read, rowsWritten: meta.rows_written };
}
