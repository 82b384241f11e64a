/**
 * The role catalog as SCIM resources (issue 12), the shape Okta's entitlement management
 * (Okta Identity Governance) discovers: `/ResourceTypes` lists a type whose schema is
 * `urn:okta:scim:schemas:core:1.0:Role` or `…:Entitlement`, and Okta reads every value from
 * its endpoint with `count`/`startIndex` paging, each `{schemas, id, displayName, description}`
 * (entitlements also `type`). draft-ietf-scim-roles-entitlements describes the same need.
 */
import { scimErrors } from "./errors";
import { type Filter, matchesFilter, parseFilter } from "./filter";
import { attr } from "./schema/common";
import type { JsonObject, SchemaDefinition } from "./schema/types";

export const ROLE_SCHEMA_URN = "urn:okta:scim:schemas:core:1.0:Role";
export const ENTITLEMENT_SCHEMA_URN = "urn:okta:scim:schemas:core:1.0:Entitlement";

export type CatalogKind = "Role" | "Entitlement";

const readOnly = { mutability: "readOnly" } as const;

export const ROLE_SCHEMA: SchemaDefinition = {
  id: ROLE_SCHEMA_URN,
  name: "Role",
  description: "A role the application grants; users carry its id in roles[].value or userType.",
  attributes: [
    attr("displayName", "string", "The role's name, as the application shows it.", { ...readOnly, required: true }),
    attr("description", "string", "What the role allows.", readOnly),
  ],
};

export const ENTITLEMENT_SCHEMA: SchemaDefinition = {
  id: ENTITLEMENT_SCHEMA_URN,
  name: "Entitlement",
  description: "An entitlement the application grants (a licence, a permission set); users carry its id in entitlements[].value.",
  attributes: [
    attr("displayName", "string", "The entitlement's name, as the application shows it.", { ...readOnly, required: true }),
    attr("type", "string", "The kind of entitlement (for example License).", { ...readOnly, required: true }),
    attr("description", "string", "What the entitlement grants.", readOnly),
  ],
};

/** The schemas /Schemas describes besides the User and Group ones. */
export const CATALOG_SCHEMAS: readonly SchemaDefinition[] = [ROLE_SCHEMA, ENTITLEMENT_SCHEMA];

export interface CatalogResourceType {
  id: CatalogKind;
  name: CatalogKind;
  endpoint: string;
  description: string;
  schema: string;
  schemaExtensions: readonly { schema: string; required: boolean }[];
}

export const ROLE_RESOURCE_TYPE: CatalogResourceType = {
  id: "Role",
  name: "Role",
  endpoint: "/Roles",
  description: "Roles of the application (read-only)",
  schema: ROLE_SCHEMA_URN,
  schemaExtensions: [],
};

export const ENTITLEMENT_RESOURCE_TYPE: CatalogResourceType = {
  id: "Entitlement",
  name: "Entitlement",
  endpoint: "/Entitlements",
  description: "Entitlements of the application (read-only)",
  schema: ENTITLEMENT_SCHEMA_URN,
  schemaExtensions: [],
};

/** The catalog resource types a tenant offers: only those its catalog has entries for. */
export function catalogResourceTypes(present: { roles: boolean; entitlements: boolean }): CatalogResourceType[] {
  return [...(present.roles ? [ROLE_RESOURCE_TYPE] : []), ...(present.entitlements ? [ENTITLEMENT_RESOURCE_TYPE] : [])];
}

export interface CatalogItem {
  id: string;
  displayName: string;
  description: string | null;
  type?: string;
}

/** One Role or Entitlement resource; `description` is absent when the operator gave none. */
export function renderCatalogItem(kind: CatalogKind, item: CatalogItem, baseUrl: string): JsonObject {
  const endpoint = kind === "Role" ? "Roles" : "Entitlements";
  const doc: JsonObject = { schemas: [kind === "Role" ? ROLE_SCHEMA_URN : ENTITLEMENT_SCHEMA_URN], id: item.id, displayName: item.displayName };
  if (item.type !== undefined) doc.type = item.type;
  if (item.description !== null) doc.description = item.description;
  doc.meta = { resourceType: kind, location: `${baseUrl.replace(/\/+$/, "")}/${endpoint}/${encodeURIComponent(item.id)}` };
  return doc;
}

const FILTERABLE: Record<CatalogKind, readonly string[]> = {
  Role: ["id", "displayName", "description"],
  Entitlement: ["id", "displayName", "description", "type"],
};

function checkPaths(kind: CatalogKind, f: Filter): void {
  switch (f.op) {
    case "and":
    case "or":
      checkPaths(kind, f.left);
      checkPaths(kind, f.right);
      return;
    case "not":
      checkPaths(kind, f.filter);
      return;
    case "valuePath":
      throw scimErrors.invalidFilter(`${kind} attributes are single-valued: "${f.path.attr}[…]" cannot be filtered.`);
    default:
      if (f.path.urn !== undefined && f.path.urn.toLowerCase() !== (kind === "Role" ? ROLE_SCHEMA_URN : ENTITLEMENT_SCHEMA_URN).toLowerCase()) {
        throw scimErrors.invalidFilter(`Unknown schema "${f.path.urn}" in the filter.`);
      }
      if (f.path.sub !== undefined || !FILTERABLE[kind].some((a) => a.toLowerCase() === f.path.attr.toLowerCase())) {
        throw scimErrors.invalidFilter(`${kind}s can be filtered on ${FILTERABLE[kind].join(", ")} only.`);
      }
  }
}

/**
 * A page of the catalog (RFC 7644 §3.4.2.4 startIndex/count, §3.4.2.2 filter), in memory:
 * a catalog holds at most 2,000 entries (storage/roles.ts). `id` is caseExact, the rest not.
 */
export function catalogPage<T extends CatalogItem>(
  kind: CatalogKind,
  items: readonly T[],
  query: { filter?: string | undefined; startIndex: number; count: number },
): { page: T[]; totalResults: number } {
  let matching = items;
  if (query.filter !== undefined) {
    const parsed = parseFilter(query.filter);
    if (!parsed.ok) throw parsed.error;
    const filter = parsed.value;
    checkPaths(kind, filter);
    matching = items.filter((item) =>
      matchesFilter({ ...item } as Record<string, unknown>, filter, { caseExact: (path) => path.attr.toLowerCase() === "id" }),
    );
  }
  return { page: matching.slice(query.startIndex - 1, query.startIndex - 1 + query.count), totalResults: matching.length };
}
