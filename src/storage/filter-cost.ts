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
 *
 * Only `id`, `userName` and group `displayName` are unique per tenant. `externalId`,
 * `emails.value` and `members[value eq]` are not (12,000 users may share one externalId), so a
 * filter that narrows only through them is *shared*: its index matches, not the tenant, are
 * what it reads, and the scan budget applies to their number (scan-budget.ts, sharedIndex).
 */
import type { AttrPath, Filter } from "../scim/filter";
import { findAttribute, type ResourceTypeName, resourceSchemas, sameUrn } from "../scim/schema";

/** Attributes whose equality the indexes answer, per resource type (for the 400's detail too). */
export const NARROWING_ATTRIBUTES: Record<ResourceTypeName, readonly string[]> = {
  User: ["id", "externalId", "userName", "emails.value"],
  Group: ["id", "externalId", "displayName", "members.value"],
};

/** Keys with at most one resource per value and tenant: an equality on one reads at most a row. */
const UNIQUE_ATTRIBUTES: Record<ResourceTypeName, readonly string[]> = {
  User: ["id", "userName"],
  Group: ["id", "displayName"],
};

/** How an index narrows a filter: to one row per equality, or to the resources sharing a value. */
export type Narrowing = "unique" | "shared";

export function narrowingOf(resourceType: ResourceTypeName, filter: Filter): Narrowing | undefined {
  switch (filter.op) {
    case "and": {
      const left = narrowingOf(resourceType, filter.left);
      const right = narrowingOf(resourceType, filter.right);
      return left === "unique" || right === "unique" ? "unique" : (left ?? right);
    }
    case "or": {
      const left = narrowingOf(resourceType, filter.left);
      const right = narrowingOf(resourceType, filter.right);
      if (!left || !right) return undefined;
      return left === "unique" && right === "unique" ? "unique" : "shared";
    }
    case "not":
    case "present":
      return undefined;
    case "compare": {
      if (filter.operator !== "eq" || filter.value === null || typeof filter.value === "boolean") return undefined;
      const name = indexedName(resourceType, filter.path);
      if (name === undefined) return undefined;
      return UNIQUE_ATTRIBUTES[resourceType].includes(name) ? "unique" : "shared";
    }
    case "valuePath":
      // emails[…] and members[…] index values that several resources may share.
      return indexedElement(resourceType, filter.path, elementFilter(filter)) ? "shared" : undefined;
  }
}

export function isNarrowing(resourceType: ResourceTypeName, filter: Filter): boolean {
  return narrowingOf(resourceType, filter) !== undefined;
}

/**
 * For a shared filter, the part that the indexes answer alone (`externalId eq "x"` of
 * `externalId eq "x" and title co "zz"`): its matches bound what the whole filter reads. An
 * `and` keeps one narrowing side, an `or` both, a value filter only its `value eq`.
 */
export function indexedPart(resourceType: ResourceTypeName, filter: Filter): Filter | undefined {
  switch (filter.op) {
    case "and":
      if (isNarrowing(resourceType, filter.left)) return indexedPart(resourceType, filter.left);
      return indexedPart(resourceType, filter.right);
    case "or": {
      const left = indexedPart(resourceType, filter.left);
      const right = indexedPart(resourceType, filter.right);
      return left && right ? { op: "or", left, right } : undefined;
    }
    case "compare":
      return isNarrowing(resourceType, filter) ? filter : undefined;
    case "valuePath": {
      const value = requiredValue(elementFilter(filter));
      return value && indexedElement(resourceType, filter.path, value) ? { op: "valuePath", path: filter.path, filter: value } : undefined;
    }
    default:
      return undefined;
  }
}

function elementFilter(filter: Extract<Filter, { op: "valuePath" }>): Filter {
  return filter.then ? { op: "and" as const, left: filter.filter, right: relative(filter.then) } : filter.filter;
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

/** `emails[… value eq "x" …]`, `members[value eq "id"]`: narrowing when the element filter requires an indexed value. */
function indexedElement(resourceType: ResourceTypeName, path: AttrPath, inner: Filter): boolean {
  const name = indexedName(resourceType, { ...(path.urn !== undefined ? { urn: path.urn } : {}), attr: path.attr, sub: "value" });
  return name !== undefined && requiresValue(inner);
}

/**
 * The `value eq <string>` the element filter requires through an and-chain, if any: exactly
 * when filter-sql.ts puts the index in front (requiredEmail, the membership lookup). An `or`
 * inside the brackets is a scan.
 */
function requiredValue(filter: Filter): Filter | undefined {
  switch (filter.op) {
    case "and":
      return requiredValue(filter.left) ?? requiredValue(filter.right);
    case "compare":
      return filter.operator === "eq" &&
        typeof filter.value === "string" &&
        filter.path.attr.toLowerCase() === "value" &&
        filter.path.sub === undefined
        ? filter
        : undefined;
    default:
      return undefined;
  }
}

function requiresValue(filter: Filter): boolean {
  return requiredValue(filter) !== undefined;
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
