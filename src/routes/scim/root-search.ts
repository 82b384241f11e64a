/**
 * Search across resource types at the tenant's root (RFC 7644 §3.4.2.1, §3.4.3):
 * `GET /?filter=…` and `POST /.search`. The types come one after the other, in the
 * registry's order (Users, then Groups), each page read through the type's own list
 * operation, so filters, the scan budget, projection and streaming behave as on /Users and
 * /Groups. Every resource carries `schemas` and `meta.resourceType`, whatever `attributes`
 * says. D1 work is one list read per type, whatever the paging.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { scimErrors } from "../../scim/errors";
import { type Filter, parseFilter } from "../../scim/filter";
import { findAttribute, type ResourceTypeName, splitUrnPath } from "../../scim/schema";
import { SyncTurnedOff } from "../../storage/tenant-db";
import { readJsonBody } from "../body";
import { parseWith, validQuery } from "../validation";
import { listBody, type ResourcePage } from "./list-body";
import { type ListQuery, listQuerySchema } from "./list-query";
import { methodNotAllowed, searchBody } from "./listing";
import type { Ctx, ResourceTypeEntry } from "./resource-operations";
import { RESOURCE_TYPES } from "./resource-types";

const ROOT_CURSOR_PREFIX = "r1.";

/** Whether every attribute the filter names is one of the type's (`userName` is not a Group's). */
function filterFits(type: ResourceTypeName, filter: Filter): boolean {
  switch (filter.op) {
    case "and":
    case "or":
      return filterFits(type, filter.left) && filterFits(type, filter.right);
    case "not":
      return filterFits(type, filter.filter);
    case "compare":
    case "present":
    case "valuePath":
      return findAttribute(type, filter.path) !== undefined;
  }
}

/**
 * The types a root filter searches: those that know every attribute it names. A filter on
 * `userName` searches Users only; `displayName` (a User's and a Group's) both; a filter that
 * fits none is 400 invalidFilter, as on a single type.
 */
function searchedTypes(query: ListQuery): readonly ResourceTypeEntry[] {
  if (query.filter === undefined) return RESOURCE_TYPES;
  const parsed = parseFilter(query.filter);
  if (!parsed.ok) throw parsed.error;
  const types = RESOURCE_TYPES.filter((t) => filterFits(t.name, parsed.value));
  if (types.length === 0) throw scimErrors.invalidFilter("The filter names attributes that no resource type has.");
  return types;
}

/** `attributes` never drop what tells the types apart: `schemas` is always kept, `meta.resourceType` is added. */
function withResourceType(query: ListQuery): ListQuery {
  const namesMeta = (name: string) => splitUrnPath(name).attr.toLowerCase() === "meta";
  return {
    ...query,
    attributes: query.attributes.length > 0 ? [...query.attributes, "meta.resourceType"] : [],
    excludedAttributes: query.excludedAttributes.filter((name) => !namesMeta(name)),
  };
}

/** `r1.<endpoint>.<the type's own cursor>`: where the next page starts, in which type. */
function encodeRootCursor(type: ResourceTypeEntry, inner: string): string {
  return `${ROOT_CURSOR_PREFIX}${type.endpoint}.${inner}`;
}

function decodeRootCursor(cursor: string): { endpoint: string; inner: string } | undefined {
  if (cursor === "") return undefined;
  const dot = cursor.indexOf(".", ROOT_CURSOR_PREFIX.length);
  const endpoint = cursor.slice(ROOT_CURSOR_PREFIX.length, dot);
  if (!cursor.startsWith(ROOT_CURSOR_PREFIX) || dot < 0 || !RESOURCE_TYPES.some((t) => t.endpoint === endpoint)) {
    throw scimErrors.invalidCursor("The cursor is not one this server issued.");
  }
  return { endpoint, inner: cursor.slice(dot + 1) };
}

/** One type's page; a type whose provisioning the tenant turned off contributes nothing. */
async function pageOf(c: Ctx, type: ResourceTypeEntry, query: ListQuery): Promise<ResourcePage> {
  const tdb = c.var.tenantDb;
  tdb.scope = type.scope;
  try {
    return await type.operations.list(c, query);
  } catch (error) {
    if (error instanceof SyncTurnedOff) return { length: 0, inline: [], totalResults: 0 };
    throw error;
  } finally {
    tdb.scope = "none";
  }
}

function totalsOnly(query: ListQuery): ListQuery {
  const { cursor: _cursor, ...rest } = query;
  return { ...rest, startIndex: 1, count: 0 };
}

/** Index paging: `startIndex` counts through the types in order (Users 1…n, then Groups). */
async function byIndex(c: Ctx, types: readonly ResourceTypeEntry[], query: ListQuery): Promise<Response> {
  let skip = query.startIndex - 1;
  let remaining = query.count;
  const pages: ResourcePage[] = [];
  for (const type of types) {
    const page = await pageOf(c, type, { ...query, startIndex: skip + 1, count: remaining });
    pages.push(page);
    remaining -= page.length;
    skip = Math.max(0, skip - page.totalResults);
  }
  const totalResults = pages.reduce((n, p) => n + p.totalResults, 0);
  return listBody(pages, { totalResults, startIndex: query.startIndex });
}

/** Cursor paging (RFC 9865): the cursor names the type it continues in and that type's own cursor. */
async function byCursor(c: Ctx, types: readonly ResourceTypeEntry[], query: ListQuery, cursor: string): Promise<Response> {
  const at = decodeRootCursor(cursor);
  const startIndex = at ? types.findIndex((t) => t.endpoint === at.endpoint) : 0;
  if (startIndex < 0) throw scimErrors.invalidCursor("The cursor belongs to a search with another filter.");
  let remaining = query.count;
  let nextCursor: string | undefined;
  const pages: ResourcePage[] = [];
  for (const [i, type] of types.entries()) {
    const inner = i === startIndex && at ? at.inner : "";
    if (i < startIndex || nextCursor !== undefined || (remaining === 0 && i > startIndex)) {
      // Only its total: it was paged through already, or the page is full.
      const page = await pageOf(c, type, totalsOnly(query));
      pages.push(page);
      if (i > startIndex && nextCursor === undefined && page.totalResults > 0) nextCursor = encodeRootCursor(type, "");
      continue;
    }
    if (remaining === 0) {
      // count=0: nothing is returned and the cursor stays where it was.
      pages.push(await pageOf(c, type, totalsOnly(query)));
      nextCursor = cursor === "" ? encodeRootCursor(type, "") : cursor;
      continue;
    }
    const page = await pageOf(c, type, { ...query, cursor: inner, count: remaining });
    pages.push(page);
    remaining -= page.length;
    if (page.nextCursor !== undefined) nextCursor = encodeRootCursor(type, page.nextCursor);
  }
  const totalResults = pages.reduce((n, p) => n + p.totalResults, 0);
  return listBody(pages, { totalResults, startIndex: 1, ...(nextCursor !== undefined ? { nextCursor } : {}) });
}

async function rootSearch(c: Ctx, raw: ListQuery): Promise<Response> {
  if (raw.sortBy !== undefined) {
    throw scimErrors.invalidValue("sortBy is not supported across resource types; search /Users or /Groups to sort.");
  }
  const types = searchedTypes(raw);
  const query = withResourceType(raw);
  // A type's own cursor inside the root cursor is decoded by its listing (400 invalidCursor when it is not one).
  return query.cursor !== undefined ? byCursor(c, types, query, query.cursor) : byIndex(c, types, query);
}

export const rootSearchRoutes = new Hono<AppEnv>()
  .get("/", validQuery(listQuerySchema), (c) => rootSearch(c, c.req.valid("query")))
  .post("/.search", async (c) => rootSearch(c, parseWith(listQuerySchema, searchBody(await readJsonBody(c.req.raw)))))
  .all("/.search", methodNotAllowed("POST"))
  .all("/", methodNotAllowed("GET"));
