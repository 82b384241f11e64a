/**
 * One delivery attempt: POST the signed event to the endpoint with a 10 s timeout. A 2xx is
 * delivered; anything else (another status, a timeout, a network error) is retried per the
 * schedule through the queue message's own delayed retry, and after the last attempt the
 * delivery is failed (still retryable through the operator API).
 */
import { directoryDb, tenantShardDb } from "../storage/shards";
import { deliveryContext, markFailed, recordAttempt } from "../storage/webhook-outbox";
import type { WebhookEndpointRow } from "../storage/webhooks";
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

export async function attemptDelivery(env: Cloudflare.Env, deliveryId: number): Promise<AttemptResult> {
  const db = directoryDb(env);
  const context = await deliveryContext(db, (tenantId) => tenantShardDb(env, tenantId), deliveryId);
  // Gone (its endpoint was deleted) or already settled: a duplicate message, nothing to do.
  if (!context || context.delivery.status === "delivered" || context.delivery.status === "failed") return { ack: true };
  const { delivery, endpoint, event } = context;
  const nowMs = Date.now();
  const now = new Date(nowMs).toISOString();
  if (!endpoint?.enabled) {
    await markFailed(db, deliveryId, "endpoint disabled", now);
    return { ack: true };
  }
  const payload: WebhookPayload | undefined = delivery.payload ? (JSON.parse(delivery.payload) as WebhookPayload) : event && eventPayload(event);
  if (!payload) {
    await markFailed(db, deliveryId, "event no longer kept (retention)", now);
    return { ack: true };
  }
  const body = JSON.stringify(payload);
  const headers = await signedHeaders(signingSecrets(endpoint, nowMs), delivery.eventId, Math.floor(nowMs / 1000), body);
  const { statusCode, error } = await post(endpoint.url, headers, body);
  const attempts = delivery.attempts + 1;
  const attemptedAt = new Date().toISOString();
  if (error === null) {
    await recordAttempt(db, delivery, { status: "delivered", attempts, lastStatusCode: statusCode, lastError: null, lastAttemptAt: attemptedAt, nextAttemptAt: null });
    return { ack: true };
  }
  const delaySeconds = retryDelaySeconds(retrySchedule(env.WEBHOOK_RETRY_SCHEDULE), attempts);
  const nextAttemptAt = delaySeconds === undefined ? null : new Date(Date.now() + delaySeconds * 1000).toISOString();
  await recordAttempt(db, delivery, {
    status: delaySeconds === undefined ? "failed" : "retrying",
    attempts,
    lastStatusCode: statusCode,
    lastError: error,
    lastAttemptAt: attemptedAt,
    nextAttemptAt,
  });
  return delaySeconds === undefined ? { ack: true } : { ack: false, delaySeconds };
}
