/** /scim/v2/{tenantId}: authentication, the provisioning log, then the SCIM endpoints. */
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { scimErrors } from "../../scim/errors";
import { tenantRateLimit } from "../../tenancy/rate-limit";
import { scimAuth } from "../../tenancy/scim-auth";
import { entitlementRoutes, roleRoutes } from "./catalog";
import { discoveryRoutes } from "./discovery";
import { bulkRoutes } from "./bulk";
import { requestLog } from "./request-log";
import { resourceRoutes } from "./resource-routes";
import { RESOURCE_TYPES } from "./resource-types";
import { rootSearchRoutes } from "./root-search";
import { requirePublicOrigin } from "./urls";
import { webhookDispatch } from "../../webhooks/dispatch";

export const scimRoutes = new Hono<AppEnv>()
  .use(scimAuth)
  // Before the log: a flood over the budget must not turn into a D1 write per request.
  .use(tenantRateLimit)
  .use(requestLog)
  // After the log, so the operator sees a deployment without PUBLIC_URL in the tenant's log.
  .use(requirePublicOrigin)
  // After the response: the tenant's new events go to the webhook queue (no D1 before it).
  .use(webhookDispatch)
  .route("/", discoveryRoutes)
  .route("/", rootSearchRoutes)
  .route("/Bulk", bulkRoutes)
  // The role catalog is read-only and not part of the root search (issue 12): its own module.
  .route("/Roles", roleRoutes)
  .route("/Entitlements", entitlementRoutes);

for (const type of RESOURCE_TYPES) scimRoutes.route(`/${type.endpoint}`, resourceRoutes(type));

scimRoutes
  // RFC 7644 §3.11: an optional feature we do not offer is 501, not 404.
  .all("/Me", () => {
    throw scimErrors.notImplemented("/Me is not supported: tokens here authenticate an IdP, not a user.");
  });
