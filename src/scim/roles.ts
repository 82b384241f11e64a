/**
 * Roles as IdPs send them, matched against the app's role catalog (issue 12), pure.
 *
 * A user's role values come from `roles[].value` (RFC 7643 §4.1.2; Okta entitlement
 * assignment; Entra's AppRoleAssignments mappings) and from `userType` (monday.com: an Okta
 * custom attribute in the core User namespace holding admin, member, … or a custom role id).
 * A value matches a catalog role by id, or, when no id matches, by displayName compared
 * case-insensitively (Entra sends the app role's value, which admins often name like the
 * role's display name). The storage layer's SQL (storage/role-sql.ts) applies the same rule.
 */
import type { ScimDocument } from "./schema";

export type RoleValidation = "strict" | "lenient";

/** A role of the catalog: the deployment's or the tenant's own (which shadows one with the same id). */
export interface CatalogRole {
  id: string;
  displayName: string;
  rank: number;
  /** True for the tenant's own role, false for a deployment-wide one. */
  tenantOwned: boolean;
}

export interface CatalogEntry {
  id: string;
  displayName: string;
}

export type RoleSourceKind = "user" | "userType" | "group";

export interface RoleSource {
  roleId: string;
  from: RoleSourceKind;
  groupId?: string;
}

export interface EffectiveRoles {
  effective: string[];
  highest: string | null;
  sources: RoleSource[];
  unknown: string[];
}

/**
 * The case fold of displayName matching: ASCII letters only, exactly what SQLite's lower()
 * does, so the SQL statements that write `user.roles_changed` events match like this code.
 */
export function roleNameKey(value: string): string {
  return value.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** The role values a user document carries, tagged with where they came from. */
export function userRoleValues(doc: ScimDocument): { value: string; from: "user" | "userType" }[] {
  const out: { value: string; from: "user" | "userType" }[] = [];
  const roles = Array.isArray(doc.roles) ? doc.roles : [];
  for (const role of roles) {
    if (role && typeof role === "object" && !Array.isArray(role) && typeof role.value === "string" && role.value !== "") {
      out.push({ value: role.value, from: "user" });
    }
  }
  if (typeof doc.userType === "string" && doc.userType !== "") out.push({ value: doc.userType, from: "userType" });
  return out;
}

/** The distinct role values (roles first, then userType): what users.role_values stores. */
export function storedRoleValues(doc: ScimDocument): string[] {
  return [...new Set(userRoleValues(doc).map((v) => v.value))];
}

/** The entitlement values of a user document (`entitlements[].value`). */
export function userEntitlementValues(doc: ScimDocument): string[] {
  const list = Array.isArray(doc.entitlements) ? doc.entitlements : [];
  const values = list.flatMap((e) =>
    e && typeof e === "object" && !Array.isArray(e) && typeof e.value === "string" && e.value !== "" ? [e.value] : [],
  );
  return [...new Set(values)];
}

/**
 * The catalog entry a value names: by id first, else by displayName (ASCII case-insensitive).
 * Among several displayName matches the tenant's own entry wins, then the smallest id, as in SQL.
 */
export function matchCatalog<T extends CatalogEntry & { tenantOwned?: boolean }>(value: string, catalog: readonly T[]): T | undefined {
  const byId = catalog.find((r) => r.id === value);
  if (byId) return byId;
  const key = roleNameKey(value);
  const named = catalog.filter((r) => roleNameKey(r.displayName) === key);
  named.sort((a, b) => Number(b.tenantOwned ?? false) - Number(a.tenantOwned ?? false) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return named[0];
}

/** The values no catalog entry matches (for strict validation and the operator's `unknown`). */
export function unknownValues(values: readonly string[], catalog: readonly CatalogEntry[]): string[] {
  return values.filter((v) => matchCatalog(v, catalog) === undefined);
}

/**
 * What the user may do: its own roles and userType plus every group's role, matched against
 * the catalog. `highest` has the greatest rank (ties: the smallest id). A deactivated user has
 * no effective roles: `effective`, `highest` and `sources` are empty, `unknown` still lists
 * the values the catalog does not know.
 */
export function effectiveRoles(input: {
  active: boolean;
  doc: ScimDocument;
  /** Per group, as far as listed (storage caps the list); */
  groupRoles: readonly { groupId: string; role: string }[];
  /** every distinct role value of all the user's groups, so a capped list loses no role. */
  groupRoleValues: readonly string[];
  catalog: readonly CatalogRole[];
}): EffectiveRoles {
  const sources: RoleSource[] = [];
  const unknown = new Set<string>();
  const consider = (value: string, source: Omit<RoleSource, "roleId">) => {
    const role = matchCatalog(value, input.catalog);
    if (role) sources.push({ roleId: role.id, ...source });
    else unknown.add(value);
  };
  for (const { value, from } of userRoleValues(input.doc)) consider(value, { from });
  for (const { groupId, role } of input.groupRoles) consider(role, { from: "group", groupId });
  const listed = new Set(input.groupRoles.map((g) => g.role));
  for (const role of input.groupRoleValues) if (!listed.has(role)) consider(role, { from: "group" });
  if (!input.active) return { effective: [], highest: null, sources: [], unknown: [...unknown] };
  const effective = [...new Set(sources.map((s) => s.roleId))].sort();
  const rankOf = new Map(input.catalog.map((r) => [r.id, r.rank]));
  let highest: string | null = null;
  for (const id of effective) {
    if (highest === null || (rankOf.get(id) ?? 0) > (rankOf.get(highest) ?? 0)) highest = id;
  }
  return { effective, highest, sources, unknown: [...unknown] };
}
