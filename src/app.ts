/** The Hono app: operator API, setup pages, the tenant console, SCIM endpoints, and one error handler. */
import { Hono } from "hono";
import { getPath } from "hono/utils/url";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./env";
import { ScimError, scimErrors } from "./scim/errors";
import { adminRoutes } from "./routes/admin";
import { adminWebhookRoutes } from "./routes/admin-webhooks";
import { consoleRoutes } from "./routes/console";
import { scimRoutes } from "./routes/scim";
import { canonicalScimPath } from "./routes/scim/canonical-path";
import { setupRoutes } from "./routes/setup";

// SCIM paths route case- and trailing-slash-insensitively (routes/scim/canonical-path.ts).
export const app = new Hono<AppEnv>({ getPath: (request) => canonicalScimPath(getPath(request)) })
  .get("/", (c) => c.json({ service: "scim-edge", scim: "/scim/v2/{tenantId}", admin: "/admin/tenants" }))
  .route("/admin/webhooks", adminWebhookRoutes)
  .route("/admin", adminRoutes)
  .route("/setup", setupRoutes)
  .route("/console", consoleRoutes)
  .route("/scim/v2/:tenantId", scimRoutes);

app.notFound((c) => scimErrors.notFound(`No endpoint at ${c.req.method} ${new URL(c.req.url).pathname}.`).toResponse());

app.onError((error, c) => {
  if (error instanceof ScimError) return error.toResponse();
  if (error instanceof HTTPException) return new ScimError(error.status, error.message || "Request failed.").toResponse();
  // Log what went wrong for the operator; the client gets no stack and no internals.
  console.error(`${c.req.method} ${new URL(c.req.url).pathname} failed`, error);
  return new ScimError(500, "Internal server error.").toResponse();
});
