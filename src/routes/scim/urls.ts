import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type AppEnv, publicOrigin, scimBaseUrl } from "../../env";

/** The tenant's SCIM base URL as the IdP was given it, for meta.location and Location. */
export function tenantBaseUrl(c: Context<AppEnv>): string {
  return scimBaseUrl(publicOrigin(c.env, c.req.url), c.var.tenantDb.tenantId);
}

/**
 * Resolves the public origin before the handler runs: a deployment without PUBLIC_URL then
 * answers 503 before a write, never after one whose response cannot name its `Location`.
 */
export const requirePublicOrigin = createMiddleware<AppEnv>(async (c, next) => {
  publicOrigin(c.env, c.req.url);
  await next();
});
