/**
 * The every-minute Cron Trigger: what a crash or a lost send left behind is queued again.
 * - Events not enqueued a minute after they were written (the Worker died between the SCIM
 *   write's batch and its after-response send): a `tenant` message per such tenant.
 * - Deliveries still pending a minute after they were claimed or retried by the operator (the
 *   consumer died between the claim and the send): their `delivery` message again.
 * Both may duplicate a message that is merely slow; delivery is at least once, and a settled
 * delivery ignores a second message.
 */
import { database } from "../storage/database";
import { stalePendingDeliveries, tenantsWithStaleEvents } from "../storage/webhook-outbox";
import { sendMessages } from "./messages";

export const SWEEP_CRON = "* * * * *";
export const SWEEP_AGE_MS = 60_000;
const SWEEP_LIMIT = 500;

export interface SweepReport {
  tenants: number;
  deliveries: number;
}

export async function sweepWebhooks(env: Cloudflare.Env, now: number): Promise<SweepReport> {
  const db = database(env.DB);
  const cutoff = new Date(now - SWEEP_AGE_MS).toISOString();
  const tenants = await tenantsWithStaleEvents(db, cutoff, SWEEP_LIMIT);
  const deliveries = await stalePendingDeliveries(db, cutoff, SWEEP_LIMIT);
  await sendMessages(env.WEBHOOK_QUEUE, [
    ...tenants.map((tenantId) => ({ kind: "tenant" as const, tenantId })),
    ...deliveries.map((deliveryId) => ({ kind: "delivery" as const, deliveryId })),
  ]);
  const report = { tenants: tenants.length, deliveries: deliveries.length };
  if (report.tenants + report.deliveries > 0) console.log(JSON.stringify({ webhookSweep: report }));
  return report;
}
