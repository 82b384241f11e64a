/**
 * Discovery endpoints (RFC 7644 §4), built from the same schema definitions that drive
 * validation. They take no filter: `filter` is answered 403 as §4 requires.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { scimErrors } from "../../scim/errors";
import {
  findResourceTypeDocument,
  findSchemaDocument,
  resourceTypeDocuments,
  schemaDocuments,
  serviceProviderConfig,
} from "../../scim/schema";
import { listResponse } from "../../scim/list-response";
import { catalogResourceTypes } from "../../scim/catalog-resources";
import { catalogPresenceQuery } from "../../storage/roles";
import type { Context } from "hono";
import { SCIM_FEATURES } from "../../scim/features";
import { methodNotAllowed } from "./listing";
import { scimJson } from "./respond";
import { tenantBaseUrl } from "./urls";

export const discoveryRoutes = new Hono<AppEnv>()
  // Scoped to the discovery paths: this sub-app is mounted at the tenant root.
  .use("/:endpoint{ServiceProviderConfig|ResourceTypes|Schemas}/*", async (c, next) => {
    if (c.req.query("filter") !== undefined) {
      throw scimErrors.forbidden("Filtering is not supported on discovery endpoints (RFC 7644 §4).");
    }
    // /ResourceTypes checks the token in the same round trip as its catalog read.
    if (!(c.req.method === "GET" && c.req.param("endpoint") === "ResourceTypes")) await c.var.tenantDb.verify();
    await next();
  })
  .get("/ServiceProviderConfig", (c) => scimJson(serviceProviderConfig(tenantBaseUrl(c), SCIM_FEATURES)))
  .get("/ResourceTypes", async (c) => {
    const docs = resourceTypeDocuments(tenantBaseUrl(c), await tenantCatalogTypes(c));
    return scimJson(listResponse(docs, docs.length, 1));
  })
  .get("/ResourceTypes/:id", async (c) => {
    const doc = findResourceTypeDocument(tenantBaseUrl(c), c.req.param("id"), await tenantCatalogTypes(c));
    if (!doc) throw scimErrors.notFound(`No resource type '${c.req.param("id")}'.`);
    return scimJson(doc);
  })
  .get("/Schemas", (c) => {
    const docs = schemaDocuments(tenantBaseUrl(c));
    return scimJson(listResponse(docs, docs.length, 1));
  })
  .get("/Schemas/:urn", (c) => {
    const doc = findSchemaDocument(tenantBaseUrl(c), c.req.param("urn"));
    if (!doc) throw scimErrors.notFound(`No schema '${c.req.param("urn")}'.`);
    return scimJson(doc);
  })
  .all("/:endpoint{ServiceProviderConfig|ResourceTypes|Schemas}/*", methodNotAllowed("GET"));

/** Role and Entitlement are listed when the tenant's catalog has any (issue 12); one round trip with the token check. */
async function tenantCatalogTypes(c: Context<AppEnv>) {
  const tdb = c.var.tenantDb;
  const { results } = await tdb.read([catalogPresenceQuery(tdb.db, tdb.tenantId)] as const);
  const row = results[0][0];
  return catalogResourceTypes({ roles: row?.roles === 1, entitlements: row?.entitlements === 1 });
}
