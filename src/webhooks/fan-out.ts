/**
 * A `tenant` message: claim the tenant's events not yet enqueued, page by page, into one
 * delivery per matching endpoint, and send a `delivery` message for each new one. With no
 * matching endpoint the events are still marked, so nothing piles up for the sweep.
 */
import { directoryDb, shardDb, tenantShard } from "../storage/shards";
import type { EventRow } from "../storage/activity";
import { CLAIM_PAGE, claimEvents, type NewDelivery, pendingEvents } from "../storage/webhook-outbox";
import type { WebhookEndpointRow } from "../storage/webhooks";
import { webhookType } from "./event-types";
import { sendMessages } from "./messages";
import { eventWebhookId } from "./payload";

/** Pages per message: a larger backlog is continued by the sweep (or the next write's message). */
const MAX_PAGES = 10;

export function endpointWants(endpoint: WebhookEndpointRow, event: EventRow): boolean {
  if (endpoint.tenantIds && !endpoint.tenantIds.includes(event.tenantId)) return false;
  return !endpoint.events || endpoint.events.includes(webhookType(event.type, event.data));
}

export async function fanOutTenantEvents(env: Cloudflare.Env, tenantId: string): Promise<void> {
  const shard = await tenantShard(env, tenantId);
  if (shard === undefined) return; // deleted with its events
  const db = { directory: directoryDb(env), shard: shardDb(env, shard) };
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { events, endpoints } = await pendingEvents(db, tenantId);
    if (events.length === 0) return;
    const now = new Date().toISOString();
    const deliveries: NewDelivery[] = events.flatMap((event) =>
      endpoints
        .filter((endpoint) => endpointWants(endpoint, event))
        .map((endpoint) => ({
          endpointId: endpoint.id,
          eventId: eventWebhookId(event.seq),
          eventSeq: event.seq,
          eventType: webhookType(event.type, event.data),
          tenantId: event.tenantId,
          status: "pending" as const,
          attempts: 0,
          createdAt: now,
          updatedAt: now,
        })),
    );
    const created = await claimEvents(db, tenantId, events, deliveries, now);
    // If this send fails after the claim committed, the deliveries stay pending and the sweep sends them.
    await sendMessages(
      env.WEBHOOK_QUEUE,
      created.map((deliveryId) => ({ kind: "delivery", deliveryId })),
    );
    if (events.length < CLAIM_PAGE) return;
  }
}
