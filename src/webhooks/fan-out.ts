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
 * First attempts a consumer batch makes inside its fan-outs. Attempting a claimed delivery at
 * once saves its queue message, its consumer run and its D1 read (bench/README.md: that hop was
 * most of what a webhook still cost). Bounded because every attempt is a subrequest: with the
 * batch's own delivery messages (at most 100) an invocation stays far under 1,000.
 */
export const FIRST_ATTEMPTS_PER_BATCH = 100;

/** What is left of a batch's first attempts; shared by its fan-outs. */
export interface AttemptBudget {
  remaining: number;
}

export function endpointWants(endpoint: WebhookEndpointRow, event: EventRow): boolean {
  if (endpoint.tenantIds && !endpoint.tenantIds.includes(event.tenantId)) return false;
  return !endpoint.events || endpoint.events.includes(webhookType(event.type, event.data));
}

export async function fanOutTenantEvents(env: Cloudflare.Env, tenantId: string, budget: AttemptBudget): Promise<void> {
  const shard = await tenantShard(env, tenantId);
  if (shard === undefined) return; // deleted with its events
  const db = { directory: directoryDb(env), shard: shardDb(env, shard) };
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { events, endpoints } = await pendingEvents(db, tenantId);
    if (events.length === 0) return;
    const targets: ClaimTarget[] = events.flatMap((event) =>
      endpoints
        .filter((endpoint) => endpointWants(endpoint, event))
        .map((endpoint) => ({ endpointId: endpoint.id, eventId: eventWebhookId(event.seq), eventSeq: event.seq, eventType: webhookType(event.type, event.data) })),
    );
    const created = await claimEvents(db, tenantId, events, targets, new Date().toISOString());
    const now = created.slice(0, Math.max(0, budget.remaining));
    budget.remaining -= now.length;
    // If this send fails after the claim committed, the deliveries stay pending and the sweep sends them.
    await sendMessages(
      env.WEBHOOK_QUEUE,
      created.slice(now.length).map((delivery) => ({ kind: "delivery", deliveryId: delivery.id })),
    );
    if (now.length > 0) {
      const endpointsById = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
      const eventsBySeq = new Map(events.map((event) => [event.seq, event]));
      await attemptClaimed(
        env,
        now.map((delivery) => ({ id: delivery.id, context: { delivery, endpoint: endpointsById.get(delivery.endpointId), event: eventsBySeq.get(delivery.eventSeq ?? -1) } })),
      );
    }
    if (events.length < CLAIM_PAGE) return;
  }
}
