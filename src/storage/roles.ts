/**
 * The role and entitlement catalog (issue 12): the deployment's roles (tenant_id ''), each
 * tenant's own roles and its entitlements. Catalogs are small and bounded (CATALOG_MAX_ENTRIES
 * per scope), so a tenant's whole catalog is one indexed range read of at most 2,000 rows.
 */
import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import { scimErrors } from "../scim/errors";
import type { CatalogRole } from "../scim/roles";
import type { Database } from "./database";
import { catalogEntitlements, catalogRoles } from "./schema";

/** The scope of the deployment's roles: every tenant has them. */
export const ALL_TENANTS = "";

/** At most this many roles per scope (deployment, or one tenant) and entitlements per tenant. */
export const CATALOG_MAX_ENTRIES = 1000;

export type RoleRow = typeof catalogRoles.$inferSelect;
export type EntitlementRow = typeof catalogEntitlements.$inferSelect;

export interface RoleInput {
  displayName: string;
  description?: string | null | undefined;
  rank?: number | undefined;
}

export interface EntitlementInput {
  displayName: string;
  type: string;
  description?: string | null | undefined;
}

function catalogFull(what: string): never {
  throw scimErrors.invalidValue(`This catalog already holds ${CATALOG_MAX_ENTRIES} ${what}; delete one before adding another.`);
}

/** Creates or replaces a role of `scope` (ALL_TENANTS or a tenant id). */
export async function putRole(db: Database, scope: string, id: string, input: RoleInput): Promise<{ row: RoleRow; created: boolean }> {
  const now = new Date().toISOString();
  const [existing, [total]] = await db.batch([
    db.select({ id: catalogRoles.id }).from(catalogRoles).where(and(eq(catalogRoles.tenantId, scope), eq(catalogRoles.id, id))),
    db.select({ n: count() }).from(catalogRoles).where(eq(catalogRoles.tenantId, scope)),
  ]);
  if (existing.length === 0 && (total?.n ?? 0) >= CATALOG_MAX_ENTRIES) catalogFull("roles");
  const fields = { displayName: input.displayName, description: input.description ?? null, rank: input.rank ?? 0, updatedAt: now };
  const [row] = await db
    .insert(catalogRoles)
    .values({ tenantId: scope, id, ...fields, createdAt: now })
    .onConflictDoUpdate({ target: [catalogRoles.tenantId, catalogRoles.id], set: fields })
    .returning();
  if (!row) throw new Error("role upsert returned no row");
  return { row, created: existing.length === 0 };
}

/**
 * The deployment's roles (ALL_TENANTS) are kept in the directory and copied to every shard: a
 * shard's own statements match role values against its catalog_roles (role-sql.ts), and D1
 * cannot join across databases. Written to the shards first and the directory last, so the
 * directory (what `GET /admin/roles` lists) never names a role a shard lacks; a failure half-way
 * is mended by repeating the PUT or DELETE (both idempotent). A shard added to TENANT_SHARDS
 * later gets them at the next PUT of each role (README: Shards).
 */
export async function putDeploymentRole(dbs: readonly Database[], id: string, input: RoleInput): Promise<{ row: RoleRow; created: boolean }> {
  let result: { row: RoleRow; created: boolean } | undefined;
  for (const db of dbs) result = await putRole(db, ALL_TENANTS, id, input);
  if (!result) throw new Error("no database to write the role to");
  return result;
}

export async function deleteDeploymentRole(dbs: readonly Database[], id: string): Promise<boolean> {
  let deleted = false;
  for (const db of dbs) deleted = await deleteRole(db, ALL_TENANTS, id);
  return deleted;
}

export async function listRoles(db: Database, scope: string): Promise<RoleRow[]> {
  return db.select().from(catalogRoles).where(eq(catalogRoles.tenantId, scope)).orderBy(asc(catalogRoles.id));
}

export async function findRole(db: Database, scope: string, id: string): Promise<RoleRow | undefined> {
  return db
    .select()
    .from(catalogRoles)
    .where(and(eq(catalogRoles.tenantId, scope), eq(catalogRoles.id, id)))
    .get();
}

export async function deleteRole(db: Database, scope: string, id: string): Promise<boolean> {
  const removed = await db
    .delete(catalogRoles)
    .where(and(eq(catalogRoles.tenantId, scope), eq(catalogRoles.id, id)))
    .returning({ id: catalogRoles.id });
  return removed.length > 0;
}

export async function putEntitlement(
  db: Database,
  tenantId: string,
  id: string,
  input: EntitlementInput,
): Promise<{ row: EntitlementRow; created: boolean }> {
  const now = new Date().toISOString();
  const [existing, [total]] = await db.batch([
    db
      .select({ id: catalogEntitlements.id })
      .from(catalogEntitlements)
      .where(and(eq(catalogEntitlements.tenantId, tenantId), eq(catalogEntitlements.id, id))),
    db.select({ n: count() }).from(catalogEntitlements).where(eq(catalogEntitlements.tenantId, tenantId)),
  ]);
  if (existing.length === 0 && (total?.n ?? 0) >= CATALOG_MAX_ENTRIES) catalogFull("entitlements");
  const fields = { displayName: input.displayName, type: input.type, description: input.description ?? null, updatedAt: now };
  const [row] = await db
    .insert(catalogEntitlements)
    .values({ tenantId, id, ...fields, createdAt: now })
    .onConflictDoUpdate({ target: [catalogEntitlements.tenantId, catalogEntitlements.id], set: fields })
    .returning();
  if (!row) throw new Error("entitlement upsert returned no row");
  return { row, created: existing.length === 0 };
}

export async function findEntitlement(db: Database, tenantId: string, id: string): Promise<EntitlementRow | undefined> {
  return db
    .select()
    .from(catalogEntitlements)
    .where(and(eq(catalogEntitlements.tenantId, tenantId), eq(catalogEntitlements.id, id)))
    .get();
}

export async function deleteEntitlement(db: Database, tenantId: string, id: string): Promise<boolean> {
  const removed = await db
    .delete(catalogEntitlements)
    .where(and(eq(catalogEntitlements.tenantId, tenantId), eq(catalogEntitlements.id, id)))
    .returning({ id: catalogEntitlements.id });
  return removed.length > 0;
}

/** The roles a tenant sees (the deployment's and its own), as one statement for a batch. */
export function tenantRolesQuery(db: Database, tenantId: string) {
  return db
    .select()
    .from(catalogRoles)
    .where(inArray(catalogRoles.tenantId, [ALL_TENANTS, tenantId]))
    .orderBy(asc(catalogRoles.id));
}

export function tenantEntitlementsQuery(db: Database, tenantId: string) {
  return db.select().from(catalogEntitlements).where(eq(catalogEntitlements.tenantId, tenantId)).orderBy(asc(catalogEntitlements.id));
}

/**
 * The merged catalog, ordered by id: a tenant's own role shadows the deployment's role with
 * the same id (the tenant renamed or re-ranked it).
 */
export function mergeRoles(rows: readonly RoleRow[]): RoleRow[] {
  const byId = new Map<string, RoleRow>();
  for (const row of rows) {
    const seen = byId.get(row.id);
    if (!seen || (seen.tenantId === ALL_TENANTS && row.tenantId !== ALL_TENANTS)) byId.set(row.id, row);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The merged catalog in the domain's shape (scim/roles.ts). */
export function catalogOf(rows: readonly RoleRow[]): CatalogRole[] {
  return mergeRoles(rows).map((r) => ({ id: r.id, displayName: r.displayName, rank: r.rank, tenantOwned: r.tenantId !== ALL_TENANTS }));
}

export async function tenantCatalog(db: Database, tenantId: string): Promise<{ roles: RoleRow[]; entitlements: EntitlementRow[] }> {
  const [roles, entitlements] = await db.batch([tenantRolesQuery(db, tenantId), tenantEntitlementsQuery(db, tenantId)]);
  return { roles: mergeRoles(roles), entitlements };
}

/** Whether the tenant's catalog has roles (its own or the deployment's) and entitlements: 1 or 0 each. */
export function catalogPresenceQuery(db: Database, tenantId: string) {
  return db
    .select({
      roles: sql<number>`EXISTS (SELECT 1 FROM ${catalogRoles} WHERE ${catalogRoles.tenantId} IN (${ALL_TENANTS}, ${tenantId}))`,
      entitlements: sql<number>`EXISTS (SELECT 1 FROM ${catalogEntitlements} WHERE ${catalogEntitlements.tenantId} = ${tenantId})`,
    })
    .from(sql`(SELECT 1)`);
}
