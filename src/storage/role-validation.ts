/**
 * A strict tenant's `roleValidation` (issue 12): a user write whose role or entitlement values
 * the catalog does not know is refused with nothing written. The check is a guard of the
 * write's own batch (storage/tenant-db.ts), so it costs no round trip; only a refused write
 * reads the catalog once more, to name the allowed ids in its 400.
 */
import { type SQL, sql } from "drizzle-orm";
import { ScimError, scimErrors } from "../scim/errors";
import { matchCatalog, storedRoleValues, userEntitlementValues } from "../scim/roles";
import type { ScimDocument } from "../scim/schema";
import type { Database } from "./database";
import { resolveRoleSql } from "./role-sql";
import { catalogOf, tenantCatalog } from "./roles";
import { qualified } from "./qualified";
import { catalogEntitlements, tenants, users } from "./schema";
import { type Precondition, PreconditionFailed } from "./tenant-db";

/** The entitlement id a value names, or NULL: by id, else by displayName (ASCII case-insensitive). */
function resolveEntitlementSql(tenantId: string, value: SQL): SQL {
  return sql`coalesce((SELECT "e"."id" FROM ${catalogEntitlements} AS "e" WHERE "e"."tenant_id" = ${tenantId} AND "e"."id" = ${value}), (SELECT "e"."id" FROM ${catalogEntitlements} AS "e" WHERE "e"."tenant_id" = ${tenantId} AND lower("e"."display_name") = lower(${value}) ORDER BY "e"."id" LIMIT 1))`;
}

/**
 * The guard of a user write; none when the document carries no role or entitlement value.
 * Only values the user does not already hold are checked (`storedUserId`: a PUT or PATCH): a
 * value stored while the tenant was lenient, or before the catalog dropped it, must not block
 * the user's other writes (Okta's deactivation PATCH keeps every other attribute).
 */
export function rolesKnownPreconditions(tenantId: string, doc: ScimDocument, storedUserId?: string): Precondition[] {
  const roles = storedRoleValues(doc);
  const entitlements = userEntitlementValues(doc);
  if (roles.length === 0 && entitlements.length === 0) return [];
  const stored = (column: SQL) =>
    storedUserId === undefined
      ? sql``
      : sql` AND "v"."value" NOT IN (SELECT "s"."value" FROM ${users}, json_each(${column}) AS "s" WHERE ${qualified(users.tenantId)} = ${tenantId} AND ${qualified(users.id)} = ${storedUserId})`;
  const storedEntitlements = sql`json_extract(${qualified(users.doc)}, '$.entitlements')`;
  const lenient = sql`(SELECT ${tenants.roleValidation} FROM ${tenants} WHERE ${tenants.id} = ${tenantId}) <> 'strict'`;
  const rolesKnown = sql`NOT EXISTS (SELECT 1 FROM json_each(${JSON.stringify(roles)}) AS "v" WHERE ${resolveRoleSql(tenantId, sql`"v"."value"`)} IS NULL${stored(qualified(users.roleValues))})`;
  const newEntitlements = storedUserId === undefined ? sql`` : sql` AND "v"."value" NOT IN (SELECT json_extract("s"."value", '$.value') FROM ${users}, json_each(coalesce(${storedEntitlements}, '[]')) AS "s" WHERE ${qualified(users.tenantId)} = ${tenantId} AND ${qualified(users.id)} = ${storedUserId})`;
  const entitlementsKnown = sql`NOT EXISTS (SELECT 1 FROM json_each(${JSON.stringify(entitlements)}) AS "v" WHERE ${resolveEntitlementSql(tenantId, sql`"v"."value"`)} IS NULL${newEntitlements})`;
  return [{ kind: "rolesKnown", holds: sql`${lenient} OR (${rolesKnown} AND ${entitlementsKnown})` }];
}

/**
 * The 400 for a write the rolesKnown guard refused: the unknown values and the allowed ids.
 * Anything else passes through unchanged.
 */
export async function explainUnknownRoles(db: Database, tenantId: string, doc: ScimDocument, error: unknown): Promise<unknown> {
  if (!(error instanceof PreconditionFailed) || error.kind !== "rolesKnown") return error;
  const { roles, entitlements } = await tenantCatalog(db, tenantId);
  const catalog = catalogOf(roles);
  const unknownRoles = storedRoleValues(doc).filter((v) => matchCatalog(v, catalog) === undefined);
  const unknownEntitlements = userEntitlementValues(doc).filter((v) => matchCatalog(v, entitlements) === undefined);
  const parts: string[] = [];
  if (unknownRoles.length > 0) {
    parts.push(`Unknown role value(s) ${list(unknownRoles)}; allowed role ids: ${catalog.length > 0 ? list(catalog.map((r) => r.id)) : "none"}.`);
  }
  if (unknownEntitlements.length > 0) {
    parts.push(
      `Unknown entitlement value(s) ${list(unknownEntitlements)}; allowed entitlement ids: ${entitlements.length > 0 ? list(entitlements.map((e) => e.id)) : "none"}.`,
    );
  }
  // The catalog changed between the write and this read: say so rather than nothing.
  if (parts.length === 0) return new ScimError(409, "The role catalog changed during the request; retry it.");
  return scimErrors.invalidValue(`This tenant validates roles strictly. ${parts.join(" ")}`);
}

/** Quoted, comma-separated, at most 100 (a catalog holds up to 2,000 roles). */
function list(values: readonly string[]): string {
  const shown = values.slice(0, 100).map((v) => JSON.stringify(v));
  return values.length > 100 ? `${shown.join(", ")} and ${values.length - 100} more` : shown.join(", ");
}
