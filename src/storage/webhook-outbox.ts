/**
 * The webhook outbox: claiming a tenant's new events into deliveries, recording attempts, and
 * what the sweep finds left behind. Events are written in each change's own batch; here they
 * become one `webhook_deliveries` row per matching endpoint (in the directory), and then the
 * events are marked enqueued (in the tenant's shard, storage/shards.ts). Deliveries first: a
 * crash between the two leaves events unmarked, which the sweep claims again, and the
 * (endpoint, event) unique index makes that second claim record nothing twice.
 */
import { and, asc, eq, gte, inArray, isNotNull, isNull, lt, lte, sql } from "drizzle-orm";
import { chunk } from "./chunk";
import { d1Statement, type Database } from "./database";
import { eventColumns, type EventRow } from "./activity";
import { events, webhookDeliveries, webhookEndpoints } from "./schema";
import type { WebhookDeliveryRow, WebhookEndpointRow } from "./webhooks";

/** Events claimed per batch: a burst of writes is fanned out in pages of this size. */
export const CLAIM_PAGE = 100;

export type NewDelivery = Omit<typeof webhookDeliveries.$inferInsert, "id">;

/** The tenant's oldest unenqueued events (its shard), then the enabled endpoints (the directory). */
export async function pendingEvents(
  { directory, shard }: { directory: Database; shard: Database },
  tenantId: string,
): Promise<{ events: EventRow[]; endpoints: WebhookEndpointRow[] }> {
  const found = await shard
    .select(eventColumns)
    .from(events)
    .where(and(eq(events.tenantId, tenantId), isNull(events.enqueuedAt)))
    .orderBy(asc(events.seq))
    .limit(CLAIM_PAGE);
  if (found.length === 0) return { events: found, endpoints: [] };
  const endpoints = await directory.select().from(webhookEndpoints).where(eq(webhookEndpoints.enabled, true));
  return { events: found, endpoints };
}

/** One delivery a claim creates: an event for an endpoint (the rest of the row is the claim's). */
export interface ClaimTarget {
  endpointId: string;
  eventId: string;
  eventSeq: number;
  eventType: string;
}

/**
 * Rows per INSERT or UPDATE that carries its rows as one JSON parameter: D1's 100 bound
 * parameters would allow 10 deliveries a statement, and every statement is work of its own;
 * 200 rows of at most ~700 bytes (a 500-character error) stay far under D1's 2 MB per value.
 */
const ROWS_PER_JSON_STATEMENT = 200;

/**
 * Inserts the deliveries (one batch in the directory), then marks the events enqueued (the
 * shard). A delivery that already exists (a concurrent or repeated claim) is skipped, so only
 * the new ones come back, as full rows: those are the ones to attempt. The mark covers the
 * claimed seq range: seqs only grow, so no event can commit inside it later.
 */
export async function claimEvents(
  { directory, shard }: { directory: Database; shard: Database },
  tenantId: string,
  claimed: readonly EventRow[],
  targets: readonly ClaimTarget[],
  now: string,
): Promise<WebhookDeliveryRow[]> {
  const first = claimed[0]?.seq;
  const last = claimed.at(-1)?.seq;
  if (first === undefined || last === undefined) return [];
  // `WHERE true`: SQLite's parser needs it between an INSERT's SELECT and its ON CONFLICT.
  const inserts = chunk(targets, ROWS_PER_JSON_STATEMENT).map((rows) =>
    d1Statement(
      directory,
      sql`
      INSERT INTO ${webhookDeliveries} (endpoint_id, event_id, event_seq, event_type, tenant_id, status, attempts, created_at, updated_at)
      SELECT json_extract(t.value, '$[0]'), json_extract(t.value, '$[1]'), json_extract(t.value, '$[2]'), json_extract(t.value, '$[3]'), ${tenantId}, 'pending', 0, ${now}, ${now}
      FROM json_each(${JSON.stringify(rows.map((r) => [r.endpointId, r.eventId, r.eventSeq, r.eventType]))}) AS t WHERE true
      ON CONFLICT DO NOTHING
      RETURNING id, endpoint_id, event_id`,
    ),
  );
  const inserted = inserts.length > 0 ? (await directory.$client.batch<{ id: number; endpoint_id: string; event_id: string }>(inserts)).flatMap((r) => r.results) : [];
  await shard
    .update(events)
    .set({ enqueuedAt: now })
    .where(and(eq(events.tenantId, tenantId), gte(events.seq, first), lte(events.seq, last), isNull(events.enqueuedAt)));
  const byKey = new Map(targets.map((t) => [`${t.endpointId} ${t.eventId}`, t]));
  return inserted.flatMap(({ id, endpoint_id, event_id }) => {
    const target = byKey.get(`${endpoint_id} ${event_id}`);
    if (!target) return [];
    const row: WebhookDeliveryRow = {
      id,
      ...target,
      tenantId,
      payload: null,
      status: "pending",
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      lastAttemptAt: null,
      nextAttemptAt: null,
      createdAt: now,
      updatedAt: now,
    };
    return [row];
  });
}

export interface DeliveryContext {
  delivery: WebhookDeliveryRow;
  endpoint: WebhookEndpointRow | undefined;
  event: EventRow | undefined;
}

/** Ids per round trip: each statement binds them once, so at most D1's 100 parameters (a whole queue batch). */
const CONTEXT_IDS_PER_BATCH = 100;

/**
 * Deliveries with their endpoints (one directory round trip per 100 ids) and their events, when
 * they have one, from each event's tenant's shard (`shardOf`; undefined: the tenant is gone):
 * one round trip per tenant in the batch, usually one.
 */
export async function deliveryContexts(
  directory: Database,
  shardOf: (tenantId: string) => Promise<Database | undefined>,
  deliveryIds: readonly number[],
): Promise<Map<number, DeliveryContext>> {
  const contexts = new Map<number, DeliveryContext>();
  for (const ids of chunk(deliveryIds, CONTEXT_IDS_PER_BATCH)) {
    const endpointIds = directory.select({ value: webhookDeliveries.endpointId }).from(webhookDeliveries).where(inArray(webhookDeliveries.id, ids));
    const [deliveryRows, endpointRows] = await directory.batch([
      directory.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, ids)),
      directory.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, endpointIds)),
    ]);
    const endpointsById = new Map(endpointRows.map((row) => [row.id, row]));
    const seqsByTenant = new Map<string, number[]>();
    for (const d of deliveryRows) {
      if (d.tenantId === null || d.eventSeq === null) continue;
      seqsByTenant.set(d.tenantId, [...(seqsByTenant.get(d.tenantId) ?? []), d.eventSeq]);
    }
    const eventsByKey = new Map<string, EventRow>();
    for (const [tenantId, seqs] of seqsByTenant) {
      const shard = await shardOf(tenantId);
      if (!shard) continue;
      // The seqs as one JSON parameter: the tenant id and a batch's 100 seqs would bind 101.
      const rows = await shard
        .select(eventColumns)
        .from(events)
        .where(and(eq(events.tenantId, tenantId), sql`${events.seq} IN (SELECT value FROM json_each(${JSON.stringify(seqs)}))`));
      for (const row of rows) eventsByKey.set(`${tenantId}/${row.seq}`, row);
    }
    for (const delivery of deliveryRows) {
      const event = delivery.eventSeq === null ? undefined : eventsByKey.get(`${delivery.tenantId}/${delivery.eventSeq}`);
      contexts.set(delivery.id, { delivery, endpoint: endpointsById.get(delivery.endpointId), event });
    }
  }
  return contexts;
}

export interface AttemptOutcome {
  status: WebhookDeliveryRow["status"];
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string;
  nextAttemptAt: string | null;
  /** Usually lastAttemptAt; the claim's time for a retry whose message could not be sent (the sweep's cue). */
  updatedAt: string;
}

/** An attempt to record: the delivery as it was read before the attempt (its `attempts` guards the write). */
export interface AttemptToRecord {
  delivery: Pick<WebhookDeliveryRow, "id" | "endpointId" | "attempts">;
  outcome: AttemptOutcome;
}

/**
 * The statements that record attempts, for one batch: each delivery's outcome, and per endpoint
 * its failure streak (`failingSince`), taken over the attempts in time order: a success ends
 * it, a failure starts it unless one is running (the sweep disables an endpoint failing for 3 days).
 */
function outcomeStatements(db: Database, attempts: readonly AttemptToRecord[]): { updates: D1PreparedStatement[]; streaks: D1PreparedStatement[] } {
  const byEndpoint = new Map<string, AttemptOutcome[]>();
  for (const { delivery, outcome } of attempts) byEndpoint.set(delivery.endpointId, [...(byEndpoint.get(delivery.endpointId) ?? []), outcome]);
  const streaks = [...byEndpoint].map(([endpointId, outcomes]) => {
    let succeeded = false;
    let firstFailureSince: string | null = null;
    for (const outcome of [...outcomes].sort((a, b) => a.lastAttemptAt.localeCompare(b.lastAttemptAt))) {
      if (outcome.status === "delivered") {
        succeeded = true;
        firstFailureSince = null;
      } else {
        firstFailureSince ??= outcome.lastAttemptAt;
      }
    }
    // After a success in this batch the streak starts afresh (or is over); otherwise a running one continues.
    if (succeeded && firstFailureSince === null) {
      // The common case, all delivered: a write only when a streak was running (no row written otherwise).
      return db
        .update(webhookEndpoints)
        .set({ failingSince: null })
        .where(and(eq(webhookEndpoints.id, endpointId), isNotNull(webhookEndpoints.failingSince)));
    }
    const failingSince = succeeded ? firstFailureSince : sql`coalesce(${webhookEndpoints.failingSince}, ${firstFailureSince})`;
    return db.update(webhookEndpoints).set({ failingSince }).where(eq(webhookEndpoints.id, endpointId));
  });
  // Every outcome of the batch in one UPDATE per ROWS_PER_JSON_STATEMENT (by primary key, from a
  // JSON parameter). Each applies only if the row is still as the attempt read it (same attempts,
  // not settled): a second message for the same delivery (the sweep re-sent one that was merely
  // slow) cannot overwrite a newer outcome, and RETURNING tells the caller which ones applied.
  const updates = chunk(attempts, ROWS_PER_JSON_STATEMENT).map((rows) => {
    const outcomes = rows.map(({ delivery, outcome: o }) => [delivery.id, o.status, o.attempts, o.lastStatusCode, o.lastError, o.lastAttemptAt, o.nextAttemptAt, o.updatedAt, delivery.attempts]);
    return d1Statement(
      db,
      sql`
      UPDATE ${webhookDeliveries} SET
        status = json_extract(o.value, '$[1]'), attempts = json_extract(o.value, '$[2]'),
        last_status_code = json_extract(o.value, '$[3]'), last_error = json_extract(o.value, '$[4]'),
        last_attempt_at = json_extract(o.value, '$[5]'), next_attempt_at = json_extract(o.value, '$[6]'),
        updated_at = json_extract(o.value, '$[7]')
      FROM json_each(${JSON.stringify(outcomes)}) AS o
      WHERE ${webhookDeliveries.id} = json_extract(o.value, '$[0]')
        AND ${webhookDeliveries.attempts} = json_extract(o.value, '$[8]')
        AND ${webhookDeliveries.status} IN ('pending', 'retrying')
      RETURNING ${webhookDeliveries.id} AS id`,
    );
  });
  return { updates, streaks: streaks.map((streak) => d1Statement(db, streak)) };
}

/**
 * Records a batch's attempts in one D1 batch: deliveries failed without an attempt (a disabled
 * endpoint, an event past retention), then each attempt's outcome and its endpoint's streak.
 * Returns the deliveries whose outcome was recorded; the others had moved on meanwhile.
 */
export async function recordAttempts(
  db: Database,
  { failed, attempts, now }: { failed: readonly { deliveryId: number; reason: string }[]; attempts: readonly AttemptToRecord[]; now: string },
): Promise<Set<number>> {
  const { updates, streaks } = outcomeStatements(db, attempts);
  const failedStatements = failed.map(({ deliveryId, reason }) => d1Statement(db, failedStatement(db, deliveryId, reason, now)));
  const statements = [...failedStatements, ...updates, ...streaks];
  if (statements.length === 0) return new Set();
  const results = await db.$client.batch<{ id: number }>(statements);
  return new Set(results.slice(failedStatements.length, failedStatements.length + updates.length).flatMap((r) => r.results.map((row) => row.id)));
}

/** Disables the enabled endpoints whose deliveries have all failed since before `cutoff`, saying why. */
export async function disableFailingEndpoints(db: Database, cutoff: string, reason: string, now: string): Promise<string[]> {
  const rows = await db
    .update(webhookEndpoints)
    .set({ enabled: false, disabledReason: reason, updatedAt: now })
    .where(and(eq(webhookEndpoints.enabled, true), lt(webhookEndpoints.failingSince, cutoff)))
    .returning({ id: webhookEndpoints.id });
  return rows.map((row) => row.id);
}

/** Marks a delivery failed without an attempt (a disabled endpoint, an event past retention), for a batch. */
function failedStatement(db: Database, deliveryId: number, reason: string, now: string) {
  return db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: reason, nextAttemptAt: null, updatedAt: now })
    .where(and(eq(webhookDeliveries.id, deliveryId), sql`${webhookDeliveries.status} IN ('pending', 'retrying')`));
}

/** The same on its own (the dead-letter queue). */
export async function markFailed(db: Database, deliveryId: number, reason: string, now: string): Promise<void> {
  await failedStatement(db, deliveryId, reason, now);
}

export async function insertDelivery(db: Database, delivery: NewDelivery): Promise<WebhookDeliveryRow> {
  const [row] = await db.insert(webhookDeliveries).values(delivery).returning();
  if (!row) throw new Error("delivery insert returned no row");
  return row;
}

/** An operator's retry: back to pending, unless it is already on its way (pending or retrying). */
export async function requeueDelivery(db: Database, endpointId: string, deliveryId: number, now: string): Promise<WebhookDeliveryRow | undefined> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({ status: "pending", nextAttemptAt: now, updatedAt: now })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId), inArray(webhookDeliveries.status, ["failed", "delivered"])))
    .returning();
  return row;
}

/**
 * Marks enqueued, without a delivery, up to `limit` unenqueued events that no enabled endpoint
 * listens to (by `tenantIds`), oldest first through the events_unenqueued partial index. A SCIM
 * write sends no message when its isolate knows no endpoint wants its tenant
 * (src/webhooks/endpoint-scope.ts), so this is what claims those events, in bulk, instead of a
 * message per tenant. The endpoints are checked inside the same statement, so an endpoint that
 * exists when it runs keeps its events for the fan-out: a stale cache cannot make one miss.
 */
export async function markEventsNoEndpointWants(
  db: Database,
  wanted: { all: true } | { all: false; tenantIds: readonly string[] },
  writtenBefore: string,
  now: string,
  limit: number,
): Promise<number> {
  if (wanted.all) return 0;
  // `writtenBefore` is when the endpoints were read (from the directory, another database than
  // this shard): an endpoint created after that read only expects events written after it.
  const { meta } = await db.run(sql`
    UPDATE ${events} SET enqueued_at = ${now}
    WHERE seq IN (
      SELECT e.seq FROM ${events} AS e
      WHERE e.enqueued_at IS NULL
        AND e.at < ${writtenBefore}
        AND e.tenant_id NOT IN (SELECT value FROM json_each(${JSON.stringify(wanted.tenantIds)}))
      ORDER BY e.seq
      LIMIT ${limit}
    )`);
  return meta.changes;
}

/** Tenants with events not enqueued since before `cutoff` (a lost message or a crash after the write). */
export async function tenantsWithStaleEvents(db: Database, cutoff: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ tenantId: events.tenantId })
    .from(events)
    .where(and(isNull(events.enqueuedAt), lt(events.at, cutoff)))
    .limit(limit);
  return rows.map((row) => row.tenantId);
}

/** Deliveries still pending since before `cutoff`: claimed, but their message was never sent. */
export async function stalePendingDeliveries(db: Database, cutoff: string, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, "pending"), lt(webhookDeliveries.updatedAt, cutoff)))
    .limit(limit);
  return rows.map((row) => row.id);
}

/** Deletes up to `limit` deliveries recorded before `cutoff`, oldest first (one statement, a range of the created_at index). */
export async function deleteDeliveriesBefore(db: Database, cutoff: string, limit: number): Promise<number> {
  const oldest = db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(lt(webhookDeliveries.createdAt, cutoff)).orderBy(webhookDeliveries.createdAt).limit(limit);
  const { meta } = await db.delete(webhookDeliveries).where(inArray(webhookDeliveries.id, oldest));
  return meta.changes;
}
