import { app } from "./app";

export { TenantCoordinator } from "./durable/tenant-coordinator";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Cloudflare.Env>;
