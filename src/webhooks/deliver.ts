/**
 * Delivery attempts: POST the signed event to the endpoint with a 10 s timeout. A 2xx is
 * delivered; anything else (another status, a timeout, a network error) is retried per the
 * schedule through the queue message's own delayed retry, and after the last attempt the
 * delivery is failed (still retryable through the operator API).
 *
 * The deliveries of one queue batch are attempted together: one D1 round trip reads every
 * delivery with its endpoint and event, the POSTs run concurrently, and one D1 batch records
 * every outcome (bench/README.md: two round trips per delivery were most of what a webhook
 * cost the Worker). Each delivery keeps its own message, so each retries and fails on its own.
 * A delivery's first attempt is usually made by the fan-out that claimed it (attemptClaimed):
 * the consumer's messages are then only its retries.
 */
import { directoryDb, tenantShardDb } from "../storage/shards";
import type { Database } from "../storage/database";
import { type AttemptOutcome, type DeliveryContext, deliveryContexts, markRetryingPending, recordAttempts } from "../storage/webhook-outbox";
import type { WebhookEndpointRow } from "../storage/webhooks";
import { sendRetries } from "./messages";
import { eventPayload, type WebhookPayload } from "./payload";
import { retryDelaySeconds, retrySchedule } from "./schedule";
import { signedHeaders } from "./signing";

export const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_ERROR_CHARS = 500;

/** What the consumer does with the message afterwards. */
export type AttemptResult = { ack: true } | { ack: false; delaySeconds: number };

/** The secrets that sign now: the current one, and the rotated-out one until it expires. */
export function signingSecrets(endpoint: WebhookEndpointRow, nowMs: number): string[] {
  const previousLive = endpoint.previousSecret && endpoint.previousSecretExpiresAt && Date.parse(endpoint.previousSecretExpiresAt) > nowMs;
  return previousLive && endpoint.previousSecret ? [endpoint.secret, endpoint.previousSecret] : [endpoint.secret];
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<{ statusCode: number | null; error: string | null }> {
  try {
    // Redirects are not followed: a receiver that moved says so with a new URL, not a 3xx.
    const response = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { statusCode: response.status, error: ok ? null : `HTTP ${response.status}` };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    const message = timedOut ? `timed out after ${DELIVERY_TIMEOUT_MS / 1000} s` : error instanceof Error ? error.message : String(error);
    return { statusCode: null, error: message.slice(0, MAX_ERROR_CHARS) };
  }
}

/** What one delivery came to: how to answer its message, and what to record (nothing for a duplicate message). */
type Settled =
  | { result: AttemptResult; failedReason?: undefined; outcome?: undefined }
  | { result: AttemptResult; failedReason: string; outcome?: undefined }
  | { result: AttemptResult; outcome: AttemptOutcome; failedReason?: undefined };

async function attempt(env: Cloudflare.Env, context: DeliveryContext | undefined): Promise<Settled> {
  // Gone (its endpoint was deleted) or already settled: a duplicate message, nothing to do.
  if (!context || context.delivery.status === "delivered" || context.delivery.status === "failed") return { result: { ack: true } };
  const { delivery, endpoint, event } = context;
  if (!endpoint?.enabled) return { result: { ack: true }, failedReason: "endpoint disabled" };
  // The stored event's data as drizzle parsed it, serialised once here; webhook.test carries its body as written.
  const body = delivery.payload ?? (event ? JSON.stringify(eventPayload(event) satisfies WebhookPayload) : undefined);
  if (body === undefined) return { result: { ack: true }, failedReason: "event no longer kept (retention)" };
  const nowMs = Date.now();
  const headers = await signedHeaders(signingSecrets(endpoint, nowMs), delivery.eventId, Math.floor(nowMs / 1000), body);
  const { statusCode, error } = await post(endpoint.url, headers, body);
  const attempts = delivery.attempts + 1;
  const lastAttemptAt = new Date().toISOString();
  if (error === null) {
    return { result: { ack: true }, outcome: { status: "delivered", attempts, lastStatusCode: statusCode, lastError: null, lastAttemptAt, nextAttemptAt: null } };
  }
  const delaySeconds = retryDelaySeconds(retrySchedule(env.WEBHOOK_RETRY_SCHEDULE), attempts);
  const nextAttemptAt = delaySeconds === undefined ? null : new Date(Date.now() + delaySeconds * 1000).toISOString();
  return {
    result: delaySeconds === undefined ? { ack: true } : { ack: false, delaySeconds },
    outcome: { status: delaySeconds === undefined ? "failed" : "retrying", attempts, lastStatusCode: statusCode, lastError: error, lastAttemptAt, nextAttemptAt },
  };
}

/** A delivery to attempt, with what it needs (undefined: not found, e.g. its endpoint was deleted). */
export interface ToAttempt {
  id: number;
  context: DeliveryContext | undefined;
}

/** The POSTs, concurrently, and the statements that record what they came to (one D1 batch for all). */
async function attemptAll(env: Cloudflare.Env, db: Database, items: readonly ToAttempt[]) {
  // All at once: production opens at most 6 connections per invocation and queues the rest itself.
  // A pool of 16 here reused connections but cost the writes more (bench/README.md).
  const settled = await Promise.all(items.map(({ context }) => attempt(env, context)));
  const record = () =>
    recordAttempts(db, {
      failed: settled.flatMap((s, i) => (s.failedReason === undefined || !items[i] ? [] : [{ deliveryId: items[i].id, reason: s.failedReason }])),
      attempts: settled.flatMap((s, i) => {
        const delivery = items[i]?.context?.delivery;
        return s.outcome && delivery ? [{ delivery, outcome: s.outcome }] : [];
      }),
      now: new Date().toISOString(),
    });
  return { settled, record };
}

/**
 * Attempts the deliveries (one D1 read, the POSTs concurrently, one D1 batch) and returns the
 * results in the order given. An id given twice (the sweep re-sent a message that was merely
 * slow) is attempted once; its other messages are acked, so only one keeps retrying.
 */
export async function attemptDeliveries(env: Cloudflare.Env, deliveryIds: readonly number[]): Promise<AttemptResult[]> {
  const db = directoryDb(env);
  const unique = [...new Set(deliveryIds)];
  const contexts = await deliveryContexts(db, (tenantId) => tenantShardDb(env, tenantId), unique);
  const { settled, record } = await attemptAll(
    env,
    db,
    unique.map((id) => ({ id, context: contexts.get(id) })),
  );
  await record();
  const results = new Map(unique.map((id, i) => [id, settled[i]?.result ?? { ack: true as const }]));
  return deliveryIds.map((id) => {
    const result = results.get(id) ?? { ack: true as const };
    results.delete(id);
    return result;
  });
}

/**
 * First attempts of deliveries a fan-out just claimed, with the rows it already holds: no queue
 * message and no D1 read for them. One that must retry gets its `delivery` message after its
 * outcome is recorded (a message sent first could be consumed before the record and be
 * overwritten by it). If that send fails, the deliveries go back to `pending` as of their claim,
 * which the sweep sends again within a minute.
 */
export async function attemptClaimed(env: Cloudflare.Env, items: readonly ToAttempt[]): Promise<void> {
  const db = directoryDb(env);
  const { settled, record } = await attemptAll(env, db, items);
  await record();
  const retries = settled.flatMap((s, i) => (s.result.ack || !items[i] ? [] : [{ deliveryId: items[i].id, delaySeconds: s.result.delaySeconds }]));
  try {
    await sendRetries(env.WEBHOOK_QUEUE, retries);
  } catch (error) {
    console.error("webhook retry enqueue failed; the sweep will send them", error);
    const claimedAt = items[0]?.context?.delivery.createdAt ?? new Date(0).toISOString();
    await markRetryingPending(db, retries.map((r) => r.deliveryId), claimedAt);
  }
}
