/**
 * The tenant's request budget (wrangler.toml `TENANT_RATE_LIMIT`). It runs after the token
 * was matched to the tenant, so requests with made-up tokens cannot spend a tenant's budget.
 * IdPs retry a 429 (Entra backs off on 429, as its docs say).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ScimError } from "../scim/errors";

const RETRY_AFTER_SECONDS = 60;

export const tenantRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const { success } = await c.env.TENANT_RATE_LIMIT.limit({ key: c.var.tenantDb.tenantId });
  if (!success) {
    throw new ScimError(429, "Too many requests for this tenant; retry after the delay in Retry-After.", undefined, {
      "Retry-After": String(RETRY_AFTER_SECONDS),
    });
  }
  await next();
});
