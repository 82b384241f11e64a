/**
 * After a SCIM write answers, tell the webhook queue the tenant has new events. No D1 before
 * the response, ever; after it, nothing at all when no enabled endpoint listens to the tenant
 * (endpoint-scope.ts, cached per isolate), else at most a couple of queue sends a second per
 * tenant and isolate, however many writes (coalescing, below). A send that fails, is skipped
 * or never happens is covered by the sweep: the event stays unenqueued until a claim marks it.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ExpiringCache } from "../tenancy/expiring-cache";
import { anyEndpointWantsTenant } from "./endpoint-scope";

/**
 * Coalescing. A `tenant` message claims every event of the tenant committed before the consumer
 * reads them, so one message can stand for many writes. The first write of a quiet tenant sends
 * at once (no added latency). A write within COALESCE_MS of that send sends one *delayed* by
 * DELAY_SECONDS instead: the queue will not hand it to the consumer before then, so every write
 * that commits until COVER_MS after it (a margin short of the delay) is certainly claimed by it
 * and sends nothing. Under a burst that is about two messages a second per tenant and isolate
 * instead of one per write: the queue sends and the consumer's claims were most of what a
 * webhook cost a write (bench/README.md).
 */
const COALESCE_MS = 1_000;
const DELAY_SECONDS = 1;
const COVER_MS = 750;
const MAX_TENANTS = 1_000;

interface RecentSends {
  /** When the last undelayed message was sent. */
  immediateAt: number;
  /** Writes committed before this are claimed by a delayed message already sent. */
  coveredUntil: number;
}
const recentSends = new ExpiringCache<RecentSends>(MAX_TENANTS);

/** The delay of the message this write should send, or null when a sent one already covers it. */
export function plannedSend(tenantId: string, now: number): { delaySeconds: number } | null {
  const recent = recentSends.get(tenantId, now);
  if (recent && now < recent.coveredUntil) return null;
  if (!recent || now - recent.immediateAt >= COALESCE_MS) {
    recentSends.set(tenantId, { immediateAt: now, coveredUntil: 0 }, now + COALESCE_MS);
    return { delaySeconds: 0 };
  }
  const coveredUntil = now + COVER_MS;
  recentSends.set(tenantId, { immediateAt: recent.immediateAt, coveredUntil }, Math.max(coveredUntil, recent.immediateAt + COALESCE_MS));
  return { delaySeconds: DELAY_SECONDS };
}

/** For waitUntil: one `tenant` message now, unconditionally. Never rejects (a failed send is the sweep's to repair). */
export async function enqueueTenantEvents(env: Cloudflare.Env, tenantId: string, delaySeconds = 0): Promise<void> {
  try {
    await env.WEBHOOK_QUEUE.send({ kind: "tenant", tenantId }, { contentType: "json", ...(delaySeconds > 0 && { delaySeconds }) });
  } catch (error) {
    console.error("webhook enqueue failed; the sweep will send it", error);
    // Whatever this send was to cover is the sweep's now; the next write sends again.
    recentSends.delete(tenantId);
  }
}

/** For waitUntil after a SCIM write: a message only if some endpoint may want it and none sent covers it. Never rejects. */
export async function dispatchAfterWrite(env: Cloudflare.Env, tenantId: string): Promise<void> {
  try {
    if (!(await anyEndpointWantsTenant(env, tenantId))) return;
  } catch (error) {
    // The endpoints could not be read: send anyway, the consumer reads them itself.
    console.error("webhook scope read failed; sending the message anyway", error);
  }
  const planned = plannedSend(tenantId, Date.now());
  if (planned) await enqueueTenantEvents(env, tenantId, planned.delaySeconds);
}

export const webhookDispatch = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method === "GET" || c.res.status >= 400 || c.req.path.endsWith("/.search")) return;
  c.executionCtx.waitUntil(dispatchAfterWrite(c.env, c.get("tenantDb").tenantId));
});
