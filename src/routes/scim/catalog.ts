/**
 * /Roles and /Entitlements (issue 12): the tenant's role and entitlement catalog, read-only,
 * as Okta's entitlement discovery reads it (`GET /Roles?count=1&startIndex=1` → 200, a
 * non-empty page, numeric totalResults/startIndex/itemsPerPage). Their own module, so a
 * resource-type registry can mount them like /Users and /Groups.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../../env";
import { type CatalogItem, type CatalogKind, catalogPage, renderCatalogItem } from "../../scim/catalog-resources";
import { scimErrors } from "../../scim/errors";
import { listResponse } from "../../scim/list-response";
import { mergeRoles, tenantEntitlementsQuery, tenantRolesQuery } from "../../storage/roles";
import { validQuery } from "../validation";
import { listQuerySchema } from "./list-query";
import { methodNotAllowed } from "./listing";
import { scimJson } from "./respond";
import { tenantBaseUrl } from "./urls";

type Ctx = Context<AppEnv>;

/** The tenant's merged catalog of one kind, ordered by id; the token check rides in the same round trip. */
async function readCatalog(c: Ctx, kind: CatalogKind): Promise<CatalogItem[]> {
  const tdb = c.var.tenantDb;
  if (kind === "Role") {
    const { results } = await tdb.read([tenantRolesQuery(tdb.db, tdb.tenantId)] as const);
    return mergeRoles(results[0]).map((r) => ({ id: r.id, displayName: r.displayName, description: r.description }));
  }
  const { results } = await tdb.read([tenantEntitlementsQuery(tdb.db, tdb.tenantId)] as const);
  return results[0].map((e) => ({ id: e.id, displayName: e.displayName, description: e.description, type: e.type }));
}

function catalogRoutes(kind: CatalogKind) {
  return new Hono<AppEnv>()
    .get("/", validQuery(listQuerySchema), async (c) => {
      const query = c.req.valid("query");
      const { page, totalResults } = catalogPage(kind, await readCatalog(c, kind), query);
      const baseUrl = tenantBaseUrl(c);
      return scimJson(listResponse(page.map((item) => renderCatalogItem(kind, item, baseUrl)), totalResults, query.startIndex));
    })
    .get("/:id", async (c) => {
      const id = c.req.param("id");
      const item = (await readCatalog(c, kind)).find((i) => i.id === id);
      if (!item) throw scimErrors.notFound(`No ${kind.toLowerCase()} with this id.`);
      return scimJson(renderCatalogItem(kind, item, tenantBaseUrl(c)));
    })
    // RFC 7644 §3.2: the catalog is managed by the operator, so IdPs only read it.
    .all("/", methodNotAllowed("GET"))
    .all("/:id", methodNotAllowed("GET"));
}

export const roleRoutes = catalogRoutes("Role");
export const entitlementRoutes = catalogRoutes("Entitlement");
