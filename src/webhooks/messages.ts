/**
 * What travels on the webhook queue. Two kinds, so one queue serves both steps:
 * - `tenant`: "this tenant has new events" — sent by a SCIM write after its response (no D1) and
 *   by the sweep. The consumer claims the tenant's unenqueued events and fans each out to one
 *   delivery per matching endpoint.
 * - `delivery`: one (event, endpoint) delivery to attempt. Its retries are this message's
 *   retries, delayed per the schedule, so endpoints fail and recover independently.
 */
export type WebhookMessage = { kind: "tenant"; tenantId: string } | { kind: "delivery"; deliveryId: number };

export function isWebhookMessage(value: unknown): value is WebhookMessage {
  if (typeof value !== "object" || value === null) return false;
  const message = value as Record<string, unknown>;
  return (message.kind === "tenant" && typeof message.tenantId === "string") || (message.kind === "delivery" && typeof message.deliveryId === "number");
}

/** Queues' sendBatch takes at most 100 messages. */
export const MAX_SEND_BATCH = 100;

/** Sends in batches of MAX_SEND_BATCH, one sendBatch each. */
async function sendInBatches(queue: Queue, requests: readonly MessageSendRequest<WebhookMessage>[]): Promise<void> {
  for (let i = 0; i < requests.length; i += MAX_SEND_BATCH) await queue.sendBatch(requests.slice(i, i + MAX_SEND_BATCH));
}

export async function sendMessages(queue: Queue, messages: readonly WebhookMessage[]): Promise<void> {
  await sendInBatches(
    queue,
    messages.map((body) => ({ body, contentType: "json" as const })),
  );
}

/** Delivery messages for retries, each delayed per the schedule (Queues delays a message up to 12 hours). */
export async function sendRetries(queue: Queue, retries: readonly { deliveryId: number; delaySeconds: number }[]): Promise<void> {
  await sendInBatches(
    queue,
    retries.map(({ deliveryId, delaySeconds }) => ({ body: { kind: "delivery" as const, deliveryId }, contentType: "json" as const, delaySeconds })),
  );
}
