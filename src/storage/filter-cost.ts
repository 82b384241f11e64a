/**
 * What a list request costs D1, decided before it runs. D1 runs one query at a time per
 * database and every tenant shares it, so no request may read a number of rows that grows with
 * its tenant: a filter that no index narrows reads every document of the tenant (once per term,
 * and again for totalResults), and a sort reads every resource to order them.
 *
 * A filter is *narrowing* when every way to match goes through an equality on an indexed
 * value, mirroring the indexes filter-sql.ts compiles to: `id`, `externalId`, `userName` /
 * group `displayName` (their keys), `emails` / `emails.value` (user_emails), and a group's
 * `members[value eq …]` (group_members by member). `and` narrows when either side does, `or`
 * when both do, `not` never. Everything else is a scan, answered only within SCAN_BUDGET:
 * `co`/`sw`/`ew`/`gt`/`pr` on indexed columns (they walk the tenant's index range),
 * `active eq` alone (half the tenant), and `meta.created`/`meta.lastModified` (indexed, but a
 * bulk import shares timestamps and a range can cover the tenant).
 */
import { type SQL, sql } from "drizzle-orm";
import { scimErrors } from "../scim/errors";
import type { AttrPath, Filter } from "../scim/filter";
import { findAttribute, type ResourceTypeName, resourceSchemas, sameUrn } from "../scim/schema";
import { tenants } from "./schema";

/**
 * The most resources of a tenant a scanning list request may read: a tenant with more gets
 * 400 for it. At 10,000 documents a scan stays well under D1's 30 s per query even for large
 * documents with a few terms (measured: about 0.7 ms per MB of documents per term).
 */
export const SCAN_BUDGET = 10_000;

/** Attributes whose equality the indexes answer, per resource type (for the 400's detail too). */
export const NARROWING_ATTRIBUTES: Record<ResourceTypeName, readonly string[]> = {
  User: ["id", "externalId", "userName", "emails.value"],
  Group: ["id", "externalId", "displayName", "members.value"],
};

export function isNarrowing(resourceType: ResourceTypeName, filter: Filter): boolean {
  switch (filter.op) {
    case "and":
      return isNarrowing(resourceType, filter.left) || isNarrowing(resourceType, filter.right);
    case "or":
      return isNarrowing(resourceType, filter.left) && isNarrowing(resourceType, filter.right);
    case "not":
    case "present":
      return false;
    case "compare":
      if (filter.operator !== "eq" || filter.value === null || typeof filter.value === "boolean") return false;
      return indexedEquality(resourceType, filter.path);
    case "valuePath": {
      const inner = filter.then ? { op: "and" as const, left: filter.filter, right: relative(filter.then) } : filter.filter;
      return indexedElement(resourceType, filter.path, inner);
    }
  }
}

/** Which indexed attribute a path names, as `attr` or `attr.sub` (canonical), if any. */
function indexedName(resourceType: ResourceTypeName, path: AttrPath): string | undefined {
  const match = findAttribute(resourceType, path);
  if (!match || !sameUrn(match.schema.id, resourceSchemas(resourceType).core.id)) return undefined;
  const { attribute, sub } = match;
  // `emails eq "x"` means the element's value (RFC 7644 §3.4.2.2), as filter-sql.ts reads it.
  const name = sub ? `${attribute.name}.${sub.name}` : attribute.multiValued ? `${attribute.name}.value` : attribute.name;
  return NARROWING_ATTRIBUTES[resourceType].includes(name) ? name : undefined;
}

function indexedEquality(resourceType: ResourceTypeName, path: AttrPath): boolean {
  return indexedName(resourceType, path) !== undefined;
}

/** `emails[… value eq "x" …]`, `members[value eq "id"]`: narrowing when the element filter requires an indexed value. */
function indexedElement(resourceType: ResourceTypeName, path: AttrPath, inner: Filter): boolean {
  const name = indexedName(resourceType, { ...(path.urn !== undefined ? { urn: path.urn } : {}), attr: path.attr, sub: "value" });
  return name !== undefined && requiresValue(inner);
}

/**
 * Whether the element filter requires `value eq <string>` through an and-chain: exactly when
 * filter-sql.ts puts the index in front (requiredEmail, the membership lookup). An `or` inside
 * the brackets is a scan.
 */
function requiresValue(filter: Filter): boolean {
  switch (filter.op) {
    case "and":
      return requiresValue(filter.left) || requiresValue(filter.right);
    case "compare":
      return (
        filter.operator === "eq" &&
        typeof filter.value === "string" &&
        filter.path.attr.toLowerCase() === "value" &&
        filter.path.sub === undefined
      );
    default:
      return false;
  }
}

/** Entra's `emails[…].value eq "x"`: the `then` part, relative to the element. */
function relative(filter: Filter): Filter {
  if (filter.op === "compare" || filter.op === "present") return { ...filter, path: { attr: filter.path.sub ?? "value" } };
  return filter;
}

/** Why a list request would read the whole tenant: its filter, or its sort. */
export type ScanReason = "filter" | "sort";

/**
 * A page's LIMIT that is 0 when the tenant holds more than SCAN_BUDGET resources of the type
 * (from the counter every create and delete keeps). SQLite checks a LIMIT of 0 before the
 * loop starts, so a refused scan reads no row of the table; a WHERE term would not do, since
 * SQLite evaluates a subquery term per row.
 */
export function budgetedLimit(resourceType: ResourceTypeName, tenantId: string, limit: number): SQL {
  const counter = resourceType === "User" ? tenants.userCount : tenants.groupCount;
  return sql`(CASE WHEN (SELECT ${counter} FROM ${tenants} WHERE ${tenants.id} = ${tenantId}) <= ${sql.raw(String(SCAN_BUDGET))} THEN ${limit} ELSE 0 END)`;
}

/**
 * The rows a filtered list counts for totalResults, as a derived table: past the scan budget
 * its LIMIT is 0 and the count reads nothing. (A derived table, so the filter's expression
 * tree is no deeper than in the page query: SQLite caps it at depth 100.)
 */
export function countedMatches(resourceType: ResourceTypeName, tenantId: string, matching: SQL, scan: ScanReason | undefined): SQL {
  const table = resourceType === "User" ? "users" : "groups";
  const limit = scan ? sql` LIMIT ${budgetedLimit(resourceType, tenantId, SCAN_BUDGET)}` : sql``;
  return sql`(SELECT 1 FROM ${sql.identifier(table)} WHERE ${matching}${limit}) AS matches`;
}

/** The tenant's number of users or groups, for requireScanBudget. */
export function tenantSize(resourceType: ResourceTypeName, tenantId: string) {
  const counter = resourceType === "User" ? tenants.userCount : tenants.groupCount;
  return sql<number>`(SELECT ${counter} FROM ${tenants} WHERE ${tenants.id} = ${tenantId})`.as("tenant_size");
}

/** The 400 for a scanning request on a tenant past the budget; nothing else is an error. */
export function requireScanBudget(resourceType: ResourceTypeName, scan: ScanReason | undefined, tenantSize: number): void {
  if (!scan || tenantSize <= SCAN_BUDGET) return;
  const plural = resourceType === "User" ? "users" : "groups";
  const indexed = NARROWING_ATTRIBUTES[resourceType].join(", ");
  const budget = SCAN_BUDGET.toLocaleString("en");
  if (scan === "filter") {
    throw scimErrors.invalidFilter(
      `This filter would scan all ${tenantSize.toLocaleString("en")} ${plural} of the tenant; a filter that no index narrows is answered for tenants of at most ${budget} ${plural}. ` +
        `Indexed attributes: ${indexed} (eq); combine the filter with one of them using 'and'.`,
    );
  }
  throw scimErrors.invalidValue(
    `sortBy sorts all ${tenantSize.toLocaleString("en")} ${plural} of the tenant; sorting is answered for tenants of at most ${budget} ${plural}, or with a filter on an indexed attribute (${indexed}, eq).`,
  );
}
