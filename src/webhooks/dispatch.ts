/**
 * After a SCIM write answers, tell the webhook queue the tenant has new events. One queue send
 * in waitUntil and no D1 at all: the write's response waits for nothing more, and a write with
 * no webhook configured costs no extra D1 work either (the consumer finds no endpoint and only
 * marks the events). A send that fails or never happens is covered by the sweep.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

/** For waitUntil: never rejects (a failed send is the sweep's to repair). */
export async function enqueueTenantEvents(env: Cloudflare.Env, tenantId: string): Promise<void> {
  try {
    await env.WEBHOOK_QUEUE.send({ kind: "tenant", tenantId }, { contentType: "json" });
  } catch (error) {
    console.error("webhook enqueue failed; the sweep will send it", error);
  }
}

export const webhookDispatch = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method === "GET" || c.res.status >= 400 || c.req.path.endsWith("/.search")) return;
  c.executionCtx.waitUntil(enqueueTenantEvents(c.env, c.get("tenantDb").tenantId));
});
