import { app } from "./app";
import { pruneExpired } from "./maintenance/retention";

export { TenantCoordinator } from "./durable/tenant-coordinator";

export default {
  fetch: app.fetch,
  // The Cron Trigger (wrangler.toml): retention of events and the provisioning log.
  async scheduled(controller, env) {
    await pruneExpired(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
