import { app } from "./app";
import { pruneExpired } from "./maintenance/retention";
import { consumeWebhookBatch } from "./webhooks/consumer";
import { SWEEP_CRON, sweepWebhooks } from "./webhooks/sweep";

export { TenantCoordinator } from "./durable/tenant-coordinator";

export default {
  fetch: app.fetch,
  // The Cron Triggers (wrangler.toml): every minute the webhook sweep; every 15 minutes
  // retention of events and the provisioning log.
  async scheduled(controller, env) {
    if (controller.cron === SWEEP_CRON) await sweepWebhooks(env, controller.scheduledTime);
    else await pruneExpired(env, controller.scheduledTime);
  },
  // The webhook queue and its dead-letter queue (wrangler.toml [[queues.consumers]]).
  async queue(batch, env) {
    await consumeWebhookBatch(batch, env);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
