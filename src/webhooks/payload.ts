/**
 * The body of a webhook: `{id, type, tenantId, occurredAt, seq, data}`. `id` is also the
 * `webhook-id` header: stable across retries, so a receiver dedupes on it. `seq` is the
 * event's position in the tenant's feed (`GET /admin/tenants/{id}/events`), which orders a
 * tenant's events; `data` is what the feed's row holds.
 */
import type { EventRow } from "../storage/activity";
import { webhookType } from "./event-types";

export interface WebhookPayload {
  id: string;
  type: string;
  tenantId: string | null;
  occurredAt: string;
  seq: number | null;
  data: Record<string, unknown> | null;
}

/** The webhook id of a feed event: derived from its seq, so every retry and re-enqueue carries the same one. */
export function eventWebhookId(seq: number): string {
  return `evt_${seq}`;
}

export function eventPayload(event: EventRow): WebhookPayload {
  return {
    id: eventWebhookId(event.seq),
    type: webhookType(event.type, event.data),
    tenantId: event.tenantId,
    occurredAt: event.at,
    seq: event.seq,
    data: { resourceType: event.resourceType, id: event.resourceId, ...event.data },
  };
}

/** `POST /admin/webhooks/{id}/test`: not a tenant's event, so no tenant and no seq. */
export function testPayload(endpointId: string, now: string): WebhookPayload {
  return { id: `evt_test_${crypto.randomUUID()}`, type: "webhook.test", tenantId: null, occurredAt: now, seq: null, data: { webhookId: endpointId } };
}
