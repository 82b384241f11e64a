/**
 * A user's effective roles for the operator API (issue 12): the user row with its group
 * roles and the tenant's catalog, in one D1 round trip whatever the number of groups
 * (test/roles-round-trips.test.ts pins it). The matching itself is scim/roles.ts.
 */
import { and, eq } from "drizzle-orm";
import { effectiveRoles, type EffectiveRoles } from "../scim/roles";
import type { ScimDocument } from "../scim/schema";
import type { Database } from "./database";
import { qualified } from "./qualified";
import { groupRoleSourcesJson, groupRoleValuesJson } from "./role-sql";
import { catalogOf, type RoleRow, tenantRolesQuery } from "./roles";
import { users } from "./schema";

/**
 * The columns the operator API shows of a user (its document aside: the caller picks how to
 * read it), with the two JSON columns its effective roles need, correlated to the row.
 */
export function operatorUserColumns(tenantId: string) {
  return {
    seq: users.seq,
    id: users.id,
    userName: users.userName,
    active: users.active,
    lastModified: users.lastModified,
    groupRoleSources: groupRoleSourcesJson(tenantId, qualified(users.id)),
    groupRoleValues: groupRoleValuesJson(tenantId, qualified(users.id)),
  };
}

export interface GroupRoleColumns {
  groupRoleSources: string | null;
  groupRoleValues: string | null;
}

/** The effective roles of a row read with operatorUserColumns, given the tenant's catalog rows. */
export function rolesOf(row: GroupRoleColumns & { active: boolean; doc: Record<string, unknown> }, catalogRows: readonly RoleRow[]): EffectiveRoles {
  return effectiveRoles({
    active: row.active,
    doc: row.doc as ScimDocument,
    groupRoles: JSON.parse(row.groupRoleSources ?? "[]") as { groupId: string; role: string }[],
    groupRoleValues: JSON.parse(row.groupRoleValues ?? "[]") as string[],
    catalog: catalogOf(catalogRows),
  });
}

/** One user of the tenant as the operator sees it, with its effective roles; undefined → 404. */
export async function readUserWithRoles(db: Database, tenantId: string, userId: string) {
  const [rows, catalogRows] = await db.batch([
    db
      .select({ ...operatorUserColumns(tenantId), doc: users.doc })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.id, userId))),
    tenantRolesQuery(db, tenantId),
  ]);
  const row = rows[0];
  if (!row) return undefined;
  const { groupRoleSources: _sources, groupRoleValues: _values, ...user } = row;
  return { ...user, roles: rolesOf(row, catalogRows) };
}

