/**
 * Delivery attempts: POST the signed event to the endpoint with a 10 s timeout. A 2xx is
 * delivered; anything else (another status, a timeout, a network error) is retried per the
 * schedule through the queue message's own delayed retry, and after the last attempt the
 * delivery is failed (still retryable through the operator API).
 *
 * The deliveries of one queue batch are attempted together: one D1 round trip reads every
 * delivery with its endpoint and event, the POSTs run 6 at a time, and one D1 batch records
 * every outcome (bench/README.md: two round trips per delivery were most of what a webhook
 * cost the Worker). Each delivery keeps its own message, so each retries and fails on its own.
 * A delivery's first attempt is usually made by the fan-out that claimed it (attemptClaimed):
 * the consumer's messages are then only its retries.
 */
import { directoryDb, tenantShardDb } from "../storage/shards";
import type { Database } from "../storage/database";
import { type AttemptOutcome, type DeliveryContext, deliveryContexts, recordAttempts } from "../storage/webhook-outbox";
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
    return { result: { ack: true }, outcome: { status: "delivered", attempts, lastStatusCode: statusCode, lastError: null, lastAttemptAt, nextAttemptAt: null, updatedAt: lastAttemptAt } };
  }
  const delaySeconds = retryDelaySeconds(retrySchedule(env.WEBHOOK_RETRY_SCHEDULE), attempts);
  const nextAttemptAt = delaySeconds === undefined ? null : new Date(Date.now() + delaySeconds * 1000).toISOString();
  return {
    result: delaySeconds === undefined ? { ack: true } : { ack: false, delaySeconds },
    outcome: { status: delaySeconds === undefined ? "failed" : "retrying", attempts, lastStatusCode: statusCode, lastError: error, lastAttemptAt, nextAttemptAt, updatedAt: lastAttemptAt },
  };
}

/** A delivery to attempt, with what it needs (undefined: not found, e.g. its endpoint was deleted). */
export interface ToAttempt {
  id: number;
  context: DeliveryContext | undefined;
}

/**
 * POSTs in flight at once per invocation: as many as Workers opens connections for (6; more
 * fetches wait for one). Starting all of a batch's at once would start every 10 s timeout at
 * once too, and behind a slow receiver the ones still waiting for a connection would time out
 * without having been sent.
 */
export const SIMULTANEOUS_POSTS = 6;

/** The POSTs, SIMULTANEOUS_POSTS at a time, results in the items' order. */
async function attemptAll(env: Cloudflare.Env, items: readonly ToAttempt[]): Promise<Settled[]> {
  const settled: Settled[] = new Array<Settled>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) settled[i] = await attempt(env, items[i]?.context);
  };
  await Promise.all(Array.from({ length: Math.min(SIMULTANEOUS_POSTS, items.length) }, worker));
  return settled;
}

/**
 * Records what the attempts came to, in one D1 batch; `unsent`: retries whose message could not
 * be sent, recorded `pending` as of their claim so that the sweep sends them. Returns the
 * deliveries whose outcome was recorded (see recordAttempts).
 */
function record(db: Database, items: readonly ToAttempt[], settled: readonly Settled[], unsent: ReadonlySet<number> = new Set()): Promise<Set<number>> {
  return recordAttempts(db, {
    failed: settled.flatMap((s, i) => (s.failedReason === undefined || !items[i] ? [] : [{ deliveryId: items[i].id, reason: s.failedReason }])),
    attempts: settled.flatMap((s, i) => {
      const delivery = items[i]?.context?.delivery;
      if (!s.outcome || !delivery) return [];
      const outcome = unsent.has(delivery.id) ? { ...s.outcome, status: "pending" as const, nextAttemptAt: null, updatedAt: delivery.createdAt } : s.outcome;
      return [{ delivery, outcome }];
    }),
    now: new Date().toISOString(),
  });
}

/**
 * Attempts the deliveries (one D1 read, the POSTs concurrently, one D1 batch) and returns the
 * results in the order given. An id given twice (the sweep re-sent a message that was merely
 * slow) is attempted once; its other messages are acked, so only one keeps retrying. So is one
 * whose outcome was not recorded because the delivery had moved on (another message attempted
 * it meanwhile): that message's retries would duplicate the other's.
 */
export async function attemptDeliveries(env: Cloudflare.Env, deliveryIds: readonly number[]): Promise<AttemptResult[]> {
  const db = directoryDb(env);
  const unique = [...new Set(deliveryIds)];
  const contexts = await deliveryContexts(db, (tenantId) => tenantShardDb(env, tenantId), unique);
  const items = unique.map((id) => ({ id, context: contexts.get(id) }));
  const settled = await attemptAll(env, items);
  const recorded = await record(db, items, settled);
  const results = new Map(unique.map((id, i) => [id, settled[i]?.outcome && !recorded.has(id) ? { ack: true as const } : (settled[i]?.result ?? { ack: true as const })]));
  return deliveryIds.map((id) => {
    const result = results.get(id) ?? { ack: true as const };
    results.delete(id);
    return result;
  });
}

/**
 * First attempts of deliveries a fan-out just claimed, with the rows it already holds: no queue
 * message and no D1 read for them. One that must retry gets its `delivery` message, delayed per
 * the schedule, *before* its outcome is recorded, so that no crash can leave a `retrying` row
 * without a message (the sweep only looks for `pending` ones). A message consumed before the
 * record is harmless: the record is guarded by the attempt count it read, so the older of the two
 * outcomes is the one dropped. If the send fails, the outcome is recorded `pending` as of the
 * claim, and the sweep sends it within a minute or two; if the process dies first, the claim's
 * own `pending` row does the same.
 */
export async function attemptClaimed(env: Cloudflare.Env, items: readonly ToAttempt[]): Promise<void> {
  const settled = await attemptAll(env, items);
  const retries = settled.flatMap((s, i) => (s.result.ack || !items[i] ? [] : [{ deliveryId: items[i].id, delaySeconds: s.result.delaySeconds }]));
  let unsent = new Set<number>();
  try {
    await sendRetries(env.WEBHOOK_QUEUE, retries);
  } catch (error) {
    console.error("webhook retry enqueue failed; the sweep will send them", error);
    unsent = new Set(retries.map((r) => r.deliveryId));
  }
  await record(directoryDb(env), items, settled, unsent);
}
