/** The host app's view of provisioning: the event outbox and the request log. */
import { and, desc, eq, gt, lt } from "drizzle-orm";
import type { Database } from "./database";
import { events, requestLog } from "./schema";

export type EventRow = typeof events.$inferSelect;
export type RequestLogRow = typeof requestLog.$inferSelect;
export type NewRequestLog = Omit<typeof requestLog.$inferInsert, "seq">;

/** Events after a cursor (the last seq seen), oldest first: a reliable feed to poll. */
export async function listEvents(db: Database, tenantId: string, after: number, limit: number): Promise<EventRow[]> {
  return db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenantId), gt(events.seq, after)))
    .orderBy(events.seq)
    .limit(limit);
}

/** Log entries before a cursor, newest first: what an operator reads when something failed. */
export async function listRequestLog(db: Database, tenantId: string, before: number, limit: number): Promise<RequestLogRow[]> {
  return db
    .select()
    .from(requestLog)
    .where(and(eq(requestLog.tenantId, tenantId), lt(requestLog.seq, before)))
    .orderBy(desc(requestLog.seq))
    .limit(limit);
}

export async function appendRequestLog(db: Database, entry: NewRequestLog): Promise<void> {
  await db.insert(requestLog).values(entry);
}
