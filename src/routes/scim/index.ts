/** /scim/v2/{tenantId}: authentication, the provisioning log, then the SCIM endpoints. */
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { scimErrors } from "../../scim/errors";
import { tenantRateLimit } from "../../tenancy/rate-limit";
import { scimAuth } from "../../tenancy/scim-auth";
import { discoveryRoutes } from "./discovery";
import { groupRoutes } from "./groups";
import { requestLog } from "./request-log";
import { requirePublicOrigin } from "./urls";
import { userRoutes } from "./users";
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
  .route("/Users", userRoutes)
  .route("/Groups", groupRoutes)
  // RFC 7644 §3.7 / §3.11: optional features we do not offer are 501, not 404.
  .all("/Bulk", () => {
    throw scimErrors.notImplemented("Bulk operations are not supported (see /ServiceProviderConfig).");
  })
  .all("/Me", () => {
    throw scimErrors.notImplemented("/Me is not supported: tokens here authenticate an IdP, not a user.");
  });
