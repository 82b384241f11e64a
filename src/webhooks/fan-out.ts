/**
 * A `tenant` message: claim the tenant's events not yet enqueued, page by page, into one
 * delivery per matching endpoint, and attempt the new deliveries right away (up to the batch's
 * budget; the rest get a `delivery` message each). With no matching endpoint the events are
 * still marked, so nothing piles up for the sweep.
 */
import { directoryDb, shardDb, tenantShard } from "../storage/shards";
import type { EventRow } from "../storage/activity";
import { CLAIM_PAGE, type ClaimTarget, claimEvents, pendingEvents } from "../storage/webhook-outbox";
import type { WebhookEndpointRow } from "../storage/webhooks";
import { attemptClaimed } from "./deliver";
import { webhookType } from "./event-types";
import { sendMessages } from "./messages";
import { eventWebhookId } from "./payload";

/** Pages per message: a larger backlog is continued by the sweep (or the next write's message). */
const MAX_PAGES = 10;

/**
 * What one consumer batch may spend on its fan-outs, shared by its tenant messages. Attempting a
 * claimed delivery at once saves its queue message, its consumer run and its D1 read
 * (bench/README.md). Both are bounded by an invocation's limits: a page is at most 5 D1 queries
 * and 2 queue sends, so 50 pages, one shard lookup per tenant (up to 100) and the batch's own
 * delivery messages (3 queries, a shard read per tenant) stay far under 1,000 D1 queries; 100
 * first attempts and at most 100 delivery messages' POSTs stay far under 1,000 subrequests.
 */
export const FIRST_ATTEMPTS_PER_BATCH = 100;
export const PAGES_PER_BATCH = 50;

export interface FanOutBudget {
  attempts: number;
  pages: number;
}

export function batchBudget(): FanOutBudget {
  return { attempts: FIRST_ATTEMPTS_PER_BATCH, pages: PAGES_PER_BATCH };
}

export function endpointWants(endpoint: WebhookEndpointRow, event: EventRow): boolean {
  if (endpoint.tenantIds && !endpoint.tenantIds.includes(event.tenantId)) return false;
  return !endpoint.events || endpoint.events.includes(webhookType(event.type, event.data));
}

/**
 * Fans out the tenant's unenqueued events. Returns false when it stopped because the batch's
 * page budget ran out (the message should come back soon); a backlog past MAX_PAGES is left to
 * the sweep or the next write's message.
 */
export async function fanOutTenantEvents(env: Cloudflare.Env, tenantId: string, budget: FanOutBudget): Promise<boolean> {
  const shard = await tenantShard(env, tenantId);
  if (shard === undefined) return true; // deleted with its events
  const db = { directory: directoryDb(env), shard: shardDb(env, shard) };
  for (let page = 0; page < MAX_PAGES; page += 1) {
    if (budget.pages <= 0) return false;
    budget.pages -= 1;
    const { events, endpoints } = await pendingEvents(db, tenantId);
    if (events.length === 0) return true;
    const targets: ClaimTarget[] = events.flatMap((event) =>
      endpoints
        .filter((endpoint) => endpointWants(endpoint, event))
        .map((endpoint) => ({ endpointId: endpoint.id, eventId: eventWebhookId(event.seq), eventSeq: event.seq, eventType: webhookType(event.type, event.data) })),
    );
    const created = await claimEvents(db, tenantId, events, targets, new Date().toISOString());
    const firstAttempts = created.slice(0, Math.max(0, budget.attempts));
    budget.attempts -= firstAttempts.length;
    // If this send fails after the claim committed, the deliveries stay pending and the sweep sends them.
    await sendMessages(
      env.WEBHOOK_QUEUE,
      created.slice(firstAttempts.length).map((delivery) => ({ kind: "delivery", deliveryId: delivery.id })),
    );
    if (firstAttempts.length > 0) {
      const endpointsById = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
      const eventsBySeq = new Map(events.map((event) => [event.seq, event]));
      await attemptClaimed(
        env,
        firstAttempts.map((delivery) => ({ id: delivery.id, context: { delivery, endpoint: endpointsById.get(delivery.endpointId), event: eventsBySeq.get(delivery.eventSeq ?? -1) } })),
      );
    }
    if (events.length < CLAIM_PAGE) return true;
  }
  return true;
}
