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
 * when both do, `not` never. Everything else is a scan, answered only within the scan budget
 * (scan-budget.ts), including `co`/`sw`/`ew`/`gt`/`pr` on indexed columns (they walk the
 * tenant's index range),
 * `active eq` alone (half the tenant), and `meta.created`/`meta.lastModified` (indexed, but a
 * bulk import shares timestamps and a range can cover the tenant).
 */
import type { AttrPath, Filter } from "../scim/filter";
import { findAttribute, type ResourceTypeName, resourceSchemas, sameUrn } from "../scim/schema";

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

/**
 * How many times a scan parses each document: one per term that reads the JSON document
 * (json_extract, or one json_each per value filter), none for indexed columns and membership.
 * The scan budget weighs the tenant's document text by it (measured: about 0.7 ms per MB of
 * documents per term).
 */
export function jsonTerms(resourceType: ResourceTypeName, filter: Filter): number {
  switch (filter.op) {
    case "and":
    case "or":
      return jsonTerms(resourceType, filter.left) + jsonTerms(resourceType, filter.right);
    case "not":
      return jsonTerms(resourceType, filter.filter);
    case "present":
    case "compare":
    case "valuePath":
      return readsDocument(resourceType, filter.path) ? 1 : 0;
  }
}

/** Whether a path is answered from the JSON document rather than a column or group_members. */
export function readsDocument(resourceType: ResourceTypeName, path: AttrPath): boolean {
  if (path.attr.toLowerCase() === "meta") return false;
  const match = findAttribute(resourceType, { ...path, sub: undefined });
  if (!match) return true;
  if (!sameUrn(match.schema.id, resourceSchemas(resourceType).core.id)) return true;
  const name = match.attribute.name;
  const columns = resourceType === "User" ? ["id", "externalId", "userName", "active", "groups"] : ["id", "externalId", "displayName", "members"];
  return path.sub !== undefined && !match.attribute.multiValued ? true : !columns.includes(name);
}
