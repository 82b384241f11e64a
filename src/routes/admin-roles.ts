/**
 * Operator API for the role and entitlement catalog (issue 12): the deployment's roles every
 * tenant has (`/admin/roles`), a tenant's own roles and its entitlements
 * (`/admin/tenants/{id}/roles`, `/admin/tenants/{id}/entitlements`). IdPs read the result
 * through SCIM /Roles and /Entitlements (routes/scim/catalog.ts).
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { scimErrors } from "../scim/errors";
import { hasLoneSurrogate } from "../scim/identifiers";
import type { Database } from "../storage/database";
import { directoryAndEveryShard, directoryDb, tenantShardDb } from "../storage/shards";
import {
  ALL_TENANTS,
  deleteDeploymentRole,
  deleteEntitlement,
  deleteRole,
  type EntitlementRow,
  findEntitlement,
  findRole,
  listRoles,
  putDeploymentRole,
  putEntitlement,
  putRole,
  type RoleRow,
  tenantCatalog,
} from "../storage/roles";
import { readJsonBody } from "./body";
import { parseWith } from "./validation";

/** Text an IdP shows and sends back: no control characters, valid Unicode. */
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "must not contain control characters")
    .refine((s) => !hasLoneSurrogate(s), "must be valid Unicode text (no lone surrogate)");

/** An id IdPs send back as a role value: Okta and Entra keep it as a string, spaces included. */
const catalogId = text(100).refine((s) => s.trim() === s, "must not start or end with spaces");

const roleBody = z
  .object({
    displayName: text(200),
    description: text(1000).nullable().optional(),
    rank: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  })
  .strict();

const entitlementBody = z
  .object({ displayName: text(200), type: text(100), description: text(1000).nullable().optional() })
  .strict();

function roleView(row: RoleRow) {
  return {
    id: row.id,
    displayName: row.displayName,
    description: row.description,
    rank: row.rank,
    scope: row.tenantId === ALL_TENANTS ? "deployment" : "tenant",
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function entitlementView(row: EntitlementRow) {
  return {
    id: row.id,
    displayName: row.displayName,
    type: row.type,
    description: row.description,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The tenant's shard, where its own roles and entitlements live with its users (storage/shards.ts). */
async function shardOf(c: Context<AppEnv>): Promise<Database> {
  const db = await tenantShardDb(c.env, c.req.param("id") ?? "");
  if (!db) throw scimErrors.notFound("No tenant with this id.");
  return db;
}

const roleNotFound = () => scimErrors.notFound("No role with this id in this catalog.");
const entitlementNotFound = () => scimErrors.notFound("No entitlement with this id for this tenant.");

/** `/admin/roles`: the deployment's roles, which every tenant's catalog includes. */
export const adminRoleRoutes = new Hono<AppEnv>()
  .get("/", async (c) => c.json({ roles: (await listRoles(directoryDb(c.env), ALL_TENANTS)).map(roleView) }))
  .put("/:roleId", async (c) => {
    const id = parseWith(catalogId, c.req.param("roleId"));
    const body = parseWith(roleBody, await readJsonBody(c.req.raw));
    const { row, created } = await putDeploymentRole(directoryAndEveryShard(c.env), id, body);
    return c.json(roleView(row), created ? 201 : 200);
  })
  .get("/:roleId", async (c) => {
    const row = await findRole(directoryDb(c.env), ALL_TENANTS, c.req.param("roleId"));
    if (!row) throw roleNotFound();
    return c.json(roleView(row));
  })
  .delete("/:roleId", async (c) => {
    if (!(await deleteDeploymentRole(directoryAndEveryShard(c.env), c.req.param("roleId")))) throw roleNotFound();
    return c.body(null, 204);
  });

/**
 * `/admin/tenants/{id}/roles|entitlements`, mounted after the directory routes, whose middleware
 * answers 404 for an unknown tenant. GET …/roles lists the tenant's whole catalog (the
 * deployment's roles and its own, `scope` says which).
 */
export const tenantCatalogRoutes = new Hono<AppEnv>()
  .get("/roles", async (c) => {
    const { roles } = await tenantCatalog(await shardOf(c), c.req.param("id") ?? "");
    return c.json({ roles: roles.map(roleView) });
  })
  .put("/roles/:roleId", async (c) => {
    const id = parseWith(catalogId, c.req.param("roleId"));
    const body = parseWith(roleBody, await readJsonBody(c.req.raw));
    const { row, created } = await putRole(await shardOf(c), c.req.param("id") ?? "", id, body);
    return c.json(roleView(row), created ? 201 : 200);
  })
  .get("/roles/:roleId", async (c) => {
    const row = await findRole(await shardOf(c), c.req.param("id") ?? "", c.req.param("roleId"));
    if (!row) throw roleNotFound();
    return c.json(roleView(row));
  })
  .delete("/roles/:roleId", async (c) => {
    if (!(await deleteRole(await shardOf(c), c.req.param("id") ?? "", c.req.param("roleId")))) throw roleNotFound();
    return c.body(null, 204);
  })
  .get("/entitlements", async (c) => {
    const { entitlements } = await tenantCatalog(await shardOf(c), c.req.param("id") ?? "");
    return c.json({ entitlements: entitlements.map(entitlementView) });
  })
  .put("/entitlements/:entitlementId", async (c) => {
    const id = parseWith(catalogId, c.req.param("entitlementId"));
    const body = parseWith(entitlementBody, await readJsonBody(c.req.raw));
    const { row, created } = await putEntitlement(await shardOf(c), c.req.param("id") ?? "", id, body);
    return c.json(entitlementView(row), created ? 201 : 200);
  })
  .get("/entitlements/:entitlementId", async (c) => {
    const row = await findEntitlement(await shardOf(c), c.req.param("id") ?? "", c.req.param("entitlementId"));
    if (!row) throw entitlementNotFound();
    return c.json(entitlementView(row));
  })
  .delete("/entitlements/:entitlementId", async (c) => {
    if (!(await deleteEntitlement(await shardOf(c), c.req.param("id") ?? "", c.req.param("entitlementId")))) throw entitlementNotFound();
    return c.body(null, 204);
  });
