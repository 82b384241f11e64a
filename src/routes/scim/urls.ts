import type { Context } from "hono";
import { type AppEnv, publicOrigin, scimBaseUrl } from "../../env";

/** The tenant's SCIM base URL as the IdP was given it, for meta.location and Location. */
export function tenantBaseUrl(c: Context<AppEnv>): string {
  return scimBaseUrl(publicOrigin(c.env, c.req.url), c.var.tenantDb.tenantId);
}
