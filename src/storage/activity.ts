/** The host app's view of provisioning: the event outbox and the request log. */
import { and, desc, eq, gt, lt } from "drizzle-orm";
import type { Database } from "./database";
import { events, requestLog } from "./schema";

/** An event as the feed shows it (the webhook outbox mark `enqueuedAt` is internal). */
export type EventRow = Omit<typeof events.$inferSelect, "enqueuedAt">;

export const eventColumns = {
  seq: events.seq,
  tenantId: events.tenantId,
  type: events.type,
  resourceType: events.resourceType,
  resourceId: events.resourceId,
  at: events.at,
  data: events.data,
};
export type RequestLogRow = typeof requestLog.$inferSelect;
export type NewRequestLog = Omit<typeof requestLog.$inferInsert, "seq">;

/** Events after a cursor (the last seq seen), oldest first: a reliable feed to poll. */
export async function listEvents(db: Database, tenantId: string, after: number, limit: number): Promise<EventRow[]> {
  return db
    .select(eventColumns)
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

/**
 * A successful write's log row, known before its batch runs: everything but the duration is
 * fixed by then (a success has no scimType or detail). Plain data, so the Worker can hand it
 * to the tenant's Durable Object with the write.
 */
export interface SuccessLogDraft {
  at: string;
  method: string;
  path: string;
  userAgent: string | null;
  /** Date.now() when the request arrived. */
  startedMs: number;
  /** The status the request answers when its write commits. */
  status: number;
}

/**
 * The insert that rides in the write's own batch. Its duration is the time from the
 * request's arrival until this batch was built: the batch's own D1 time cannot be known
 * inside it.
 */
export function successLogInsert(db: Database, tenantId: string, draft: SuccessLogDraft) {
  return db.insert(requestLog).values({
    tenantId,
    at: draft.at,
    method: draft.method,
    path: draft.path,
    status: draft.status,
    scimType: null,
    detail: null,
    userAgent: draft.userAgent,
    durationMs: Math.max(0, Date.now() - draft.startedMs),
  });
}
