/**
 * The every-minute Cron Trigger: what a crash or a lost send left behind is queued again.
 * - Events no enabled endpoint listens to are marked enqueued in bulk (a SCIM write whose
 *   isolate knew that sent no message for them; endpoint-scope.ts), up to MARK_STATEMENTS x
 *   MARK_ROWS a run.
 * - Events not enqueued a minute after they were written (the Worker died between the SCIM
 *   write's batch and its after-response send, or its cached scope missed a new endpoint): a
 *   `tenant` message per such tenant.
 * - Deliveries still pending a minute after they were claimed or retried by the operator (the
 *   consumer died between the claim and the send): their `delivery` message again.
 * Both may duplicate a message that is merely slow; delivery is at least once, and a settled
 * delivery ignores a second message.
 * - Endpoints whose every attempt has failed for AUTO_DISABLE_MS (3 days) are disabled, with a
 *   `disabledReason`: a receiver that is gone should stop collecting retries, and the operator sees why.
 * - Tenants whose health changed get their tenant.provisioning_failing / _recovered event
 *   (health-events.ts).
 * It also deletes deliveries older than EVENT_RETENTION_DAYS (their events are gone too), at
 * most DELIVERY_PRUNE_ROWS a run: a bounded statement every minute keeps up with any volume a
 * day can produce.
 */
import { directoryDb, everyShard } from "../storage/shards";
import { retentionDays } from "../maintenance/retention";
import { deleteDeliveriesBefore, disableFailingEndpoints, markEventsNoEndpointWants, stalePendingDeliveries, tenantsWithStaleEvents } from "../storage/webhook-outbox";
import { enabledEndpointTenantScopes } from "../storage/webhooks";
import { announceHealthChanges } from "./health-events";
import { sendMessages } from "./messages";

export const SWEEP_CRON = "* * * * *";
export const SWEEP_AGE_MS = 60_000;
const SWEEP_LIMIT = 500;
export const DELIVERY_PRUNE_ROWS = 2_000;
/** 50,000 events a minute: far above what D1 can write (about 55 logged writes a second, README Retention). */
export const MARK_ROWS = 5_000;
const MARK_STATEMENTS = 10;
const DAY_MS = 86_400_000;
export const AUTO_DISABLE_MS = 3 * DAY_MS;

export interface SweepReport {
  marked: number;
  tenants: number;
  deliveries: number;
  pruned: number;
  disabled: number;
  healthChanges: number;
}

export async function sweepWebhooks(env: Cloudflare.Env, now: number): Promise<SweepReport> {
  const db = directoryDb(env);
  const cutoff = new Date(now - SWEEP_AGE_MS).toISOString();
  // The endpoints are read from the directory, the events marked in each shard (storage/shards.ts).
  const readAt = new Date(now).toISOString();
  const scopes = await enabledEndpointTenantScopes(db);
  const wanted = scopes.some((ids) => ids === null) ? { all: true as const } : { all: false as const, tenantIds: [...new Set(scopes.flatMap((ids) => ids ?? []))] };
  let marked = 0;
  const tenants: string[] = [];
  for (const shard of everyShard(env)) {
    for (let i = 0; i < MARK_STATEMENTS; i += 1) {
      const changed = await markEventsNoEndpointWants(shard.db, wanted, readAt, readAt, MARK_ROWS);
      marked += changed;
      if (changed < MARK_ROWS) break;
    }
    // Events live in each tenant's shard: one bounded read per shard.
    tenants.push(...(await tenantsWithStaleEvents(shard.db, cutoff, SWEEP_LIMIT)));
  }
  const deliveries = await stalePendingDeliveries(db, cutoff, SWEEP_LIMIT);
  await sendMessages(env.WEBHOOK_QUEUE, [
    ...tenants.map((tenantId) => ({ kind: "tenant" as const, tenantId })),
    ...deliveries.map((deliveryId) => ({ kind: "delivery" as const, deliveryId })),
  ]);
  const keptDays = retentionDays("EVENT_RETENTION_DAYS", env.EVENT_RETENTION_DAYS);
  const pruned = await deleteDeliveriesBefore(db, new Date(now - keptDays * DAY_MS).toISOString(), DELIVERY_PRUNE_ROWS);
  const disabled = await disableFailingEndpoints(
    db,
    new Date(now - AUTO_DISABLE_MS).toISOString(),
    "every delivery attempt failed for 3 days; PATCH enabled: true to resume",
    new Date(now).toISOString(),
  );
  const healthChanges = await announceHealthChanges(env, now);
  const report = { marked, tenants: tenants.length, deliveries: deliveries.length, pruned, disabled: disabled.length, healthChanges };
  if (report.marked + report.tenants + report.deliveries + report.pruned + report.disabled + report.healthChanges > 0) console.log(JSON.stringify({ webhookSweep: report }));
  return report;
}
