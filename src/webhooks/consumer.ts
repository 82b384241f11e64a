/**
 * The Queue consumer (wrangler.toml `[[queues.consumers]]`). On the webhook queue: fan out
 * `tenant` messages (once per tenant per batch; the fan-out makes the first attempts of what it
 * claims, up to the batch's budget) and attempt `delivery` messages (retries, and what the budget
 * left), each acked or retried on its own. On the dead-letter queue: a message the queue gave up on (the consumer
 * kept throwing) marks its delivery failed; a lost `tenant` message needs nothing, since the
 * sweep re-enqueues its events.
 */
import { directoryDb } from "../storage/shards";
import { markFailed } from "../storage/webhook-outbox";
import { attemptDeliveries } from "./deliver";
import { batchBudget, fanOutTenantEvents } from "./fan-out";
import { isWebhookMessage, type WebhookMessage } from "./messages";

export const DEAD_LETTER_QUEUE = "scim-edge-webhooks-dlq";

async function consumeDeadLetters(batch: MessageBatch, env: Cloudflare.Env): Promise<void> {
  const now = new Date().toISOString();
  for (const message of batch.messages) {
    if (isWebhookMessage(message.body) && message.body.kind === "delivery") {
      await markFailed(directoryDb(env), message.body.deliveryId, `dead-lettered after ${message.attempts} queue attempts`, now);
    }
    message.ack();
  }
}

export async function consumeWebhookBatch(batch: MessageBatch, env: Cloudflare.Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) return consumeDeadLetters(batch, env);
  const byTenant = new Map<string, Message[]>();
  const deliveries: { message: Message; body: Extract<WebhookMessage, { kind: "delivery" }> }[] = [];
  for (const message of batch.messages) {
    const body = message.body;
    if (!isWebhookMessage(body)) {
      console.error("webhook queue: dropping a message of unknown shape");
      message.ack();
    } else if (body.kind === "tenant") {
      byTenant.set(body.tenantId, [...(byTenant.get(body.tenantId) ?? []), message]);
    } else {
      deliveries.push({ message, body });
    }
  }
  const budget = batchBudget();
  await Promise.all([
    ...[...byTenant].map(async ([tenantId, messages]) => {
      try {
        const done = await fanOutTenantEvents(env, tenantId, budget);
        // Out of the batch's budget: back in a second, in a batch of its own.
        for (const m of messages) {
          if (done) m.ack();
          else m.retry({ delaySeconds: 1 });
        }
      } catch (error) {
        console.error("webhook fan-out failed", error);
        for (const m of messages) m.retry();
      }
    }),
    (async () => {
      if (deliveries.length === 0) return;
      try {
        const results = await attemptDeliveries(
          env,
          deliveries.map(({ body }) => body.deliveryId),
        );
        deliveries.forEach(({ message }, i) => {
          const result = results[i];
          if (!result || result.ack) message.ack();
          else message.retry({ delaySeconds: result.delaySeconds });
        });
      } catch (error) {
        // D1 failed around the attempts: let the queue try them again (its own retries, then the dead-letter queue).
        console.error("webhook delivery failed to run", error);
        for (const { message } of deliveries) message.retry();
      }
    })(),
  ]);
}
