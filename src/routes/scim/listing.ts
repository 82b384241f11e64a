/** Pieces shared by the /Users and /Groups list, search and read handlers. */
import { ScimError, scimErrors } from "../../scim/errors";
import { parseFilter } from "../../scim/filter";
import type { ProjectionOptions, ResourceTypeName } from "../../scim/schema";
import { splitUrnPath } from "../../scim/schema";
import { type ListPlan, planListing } from "../../storage/listing";
import type { ListQuery } from "./list-query";

export function planFromQuery(resourceType: ResourceTypeName, tenantId: string, query: ListQuery): ListPlan {
  let filter;
  if (query.filter !== undefined) {
    const parsed = parseFilter(query.filter);
    if (!parsed.ok) throw parsed.error;
    filter = parsed.value;
  }
  return planListing(resourceType, tenantId, {
    ...(filter ? { filter } : {}),
    ...(query.sortBy ? { sortBy: splitUrnPath(query.sortBy) } : {}),
    sortOrder: query.sortOrder,
    startIndex: query.startIndex,
    count: query.count,
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
  });
}

export function projectionOf(query: Pick<ListQuery, "attributes" | "excludedAttributes">): ProjectionOptions {
  return { attributes: query.attributes, excludedAttributes: query.excludedAttributes };
}

/**
 * Whether a derived attribute (`groups`, `members`) survives the projection, decided before
 * reading so that `excludedAttributes=members` never touches the membership table.
 */
export function wantsDerived(name: string, query: Pick<ListQuery, "attributes" | "excludedAttributes">): boolean {
  const names = (list: string[]) =>
    list.some((entry) => {
      const path = splitUrnPath(entry);
      return path.attr.toLowerCase() === name.toLowerCase();
    });
  if (query.attributes.length > 0) return names(query.attributes);
  return !names(query.excludedAttributes);
}

/** 405 with Allow for a known path and an unsupported method (RFC 9110 §15.5.6). */
export function methodNotAllowed(allow: string) {
  return (): never => {
    throw new ScimError(405, `Method not allowed here; allowed: ${allow}.`, undefined, { Allow: allow });
  };
}

/** A .search body (RFC 7644 §3.4.3) carries the query parameters as JSON; `schemas` is not enforced. */
export function searchBody(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw scimErrors.invalidSyntax("A .search body must be a JSON object (SearchRequest).");
  }
  const { schemas: _schemas, ...query } = body as Record<string, unknown>;
  return query;
}
