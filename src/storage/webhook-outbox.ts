/**
 * The webhook outbox: claiming a tenant's new events into deliveries, recording attempts, and
 * what the sweep finds left behind. Events are written in each change's own batch; here they
 * become one `webhook_deliveries` row per matching endpoint (in the directory), and then the
 * events are marked enqueued (in the tenant's shard, storage/shards.ts). Deliveries first: a
 * crash between the two leaves events unmarked, which the sweep claims again, and the
 * (endpoint, event) unique index makes that second claim record nothing twice.
 */
import { and, asc, eq, gte, inArray, isNull, lt, lte, sql } from "drizzle-orm";
import { chunk, rowsPerStatement } from "./chunk";
import type { Database } from "./database";
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

/**
 * Inserts the deliveries (one batch in the directory), then marks the events enqueued (the
 * shard). A delivery that already exists (a concurrent or repeated claim) is skipped, so only
 * the new ones come back: those are the ones to send. The mark covers the claimed seq range:
 * seqs only grow, so no event can commit inside it later.
 */
export async function claimEvents(
  { directory, shard }: { directory: Database; shard: Database },
  tenantId: string,
  claimed: readonly EventRow[],
  deliveries: readonly NewDelivery[],
  now: string,
): Promise<number[]> {
  const first = claimed[0]?.seq;
  const last = claimed.at(-1)?.seq;
  if (first === undefined || last === undefined) return [];
  const [insert, ...inserts] = chunk(deliveries, rowsPerStatement(10)).map((rows) =>
    directory.insert(webhookDeliveries).values(rows).onConflictDoNothing().returning({ id: webhookDeliveries.id }),
  );
  const inserted = insert ? await directory.batch([insert, ...inserts]) : [];
  await shard
    .update(events)
    .set({ enqueuedAt: now })
    .where(and(eq(events.tenantId, tenantId), gte(events.seq, first), lte(events.seq, last), isNull(events.enqueuedAt)));
  return inserted.flat().map((row) => row.id);
}

export interface DeliveryContext {
  delivery: WebhookDeliveryRow;
  endpoint: WebhookEndpointRow | undefined;
  event: EventRow | undefined;
}

/**
 * A delivery with its endpoint (one directory round trip) and its event, when it has one,
 * from the event's tenant's shard (`shardOf`; undefined: the tenant is gone).
 */
export async function deliveryContext(
  directory: Database,
  shardOf: (tenantId: string) => Promise<Database | undefined>,
  deliveryId: number,
): Promise<DeliveryContext | undefined> {
  const [deliveryRows, endpointRows] = await directory.batch([
    directory.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)),
    directory
      .select()
      .from(webhookEndpoints)
      .where(sql`${webhookEndpoints.id} = (SELECT ${webhookDeliveries.endpointId} FROM ${webhookDeliveries} WHERE ${webhookDeliveries.id} = ${deliveryId})`),
  ]);
  const delivery = deliveryRows[0];
  if (!delivery) return undefined;
  const shard = delivery.tenantId !== null && delivery.eventSeq !== null ? await shardOf(delivery.tenantId) : undefined;
  const event =
    shard && delivery.eventSeq !== null && delivery.tenantId !== null
      ? await shard
          .select(eventColumns)
          .from(events)
          .where(and(eq(events.tenantId, delivery.tenantId), eq(events.seq, delivery.eventSeq)))
          .get()
      : undefined;
  return { delivery, endpoint: endpointRows[0], event };
}

export interface AttemptOutcome {
  status: WebhookDeliveryRow["status"];
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string;
  nextAttemptAt: string | null;
}

/**
 * Records an attempt and, in the same batch, the endpoint's failure streak: a success ends it,
 * a failure starts it unless one is running (the sweep disables an endpoint failing for 3 days).
 */
export async function recordAttempt(db: Database, delivery: Pick<WebhookDeliveryRow, "id" | "endpointId">, outcome: AttemptOutcome): Promise<void> {
  const succeeded = outcome.status === "delivered";
  await db.batch([
    db
      .update(webhookDeliveries)
      .set({ ...outcome, updatedAt: outcome.lastAttemptAt })
      .where(eq(webhookDeliveries.id, delivery.id)),
    db
      .update(webhookEndpoints)
      .set({ failingSince: succeeded ? null : sql`coalesce(${webhookEndpoints.failingSince}, ${outcome.lastAttemptAt})` })
      .where(eq(webhookEndpoints.id, delivery.endpointId)),
  ]);
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

/** Marks a delivery failed without an attempt (the dead-letter queue, a disabled endpoint). */
export async function markFailed(db: Database, deliveryId: number, reason: string, now: string): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: reason, nextAttemptAt: null, updatedAt: now })
    .where(and(eq(webhookDeliveries.id, deliveryId), sql`${webhookDeliveries.status} IN ('pending', 'retrying')`));
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
