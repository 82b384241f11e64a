/**
 * Turns a list request into SQL pieces shared by Users and Groups: the compiled filter,
 * a stable order (the sort key, then insertion order), and index or cursor paging.
 */
import { and, asc, desc, gt, type SQL, sql } from "drizzle-orm";
import { scimErrors } from "../scim/errors";
import type { AttrPath, Filter } from "../scim/filter";
import type { ResourceTypeName } from "../scim/schema";
import { indexedPart, type Narrowing, narrowingOf, jsonTerms, readsDocument } from "./filter-cost";
import { budgetedLimit, type ScanPlan } from "./scan-budget";
import { compileFilter, compileIndexLookup, sortExpression } from "./filter-sql";
import { FilterLimits } from "./filter-limits";
import { groups, users } from "./schema";
import { seekToIndex } from "./seq-blocks";

export interface ListRequest {
  filter?: Filter;
  sortBy?: AttrPath;
  sortOrder: "ascending" | "descending";
  startIndex: number;
  count: number;
  /** RFC 9865: undefined for index paging, "" for the first cursor page. */
  cursor?: string;
}

export interface ListPlan {
  /** The filter alone (for totalResults). */
  filter: SQL | undefined;
  /** The filter plus the cursor position (for the page). */
  where: SQL | undefined;
  orderBy: SQL[];
  /** A number, or an SQL expression when the page is under the scan budget (filter-cost.ts). */
  limit: number | SQL;
  /** Rows to skip: a number, or an SQL expression when the skip is found from block counts. */
  offset: number | SQL;
  /**
   * Set when the request reads the whole tenant (filter-cost.ts): `limit` is then 0 past the
   * scan budget, the count is countedMatches(…, scan), and the caller checks the tenant's size
   * (requireScanBudget).
   */
  scan?: ScanPlan;
}

const CURSOR_PREFIX = "c1.";

export function encodeCursor(seq: number): string {
  return `${CURSOR_PREFIX}${seq.toString(36)}`;
}

function decodeCursor(cursor: string): number {
  if (cursor === "") return 0;
  const seq = cursor.startsWith(CURSOR_PREFIX) ? Number.parseInt(cursor.slice(CURSOR_PREFIX.length), 36) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq < 0) throw scimErrors.invalidCursor("The cursor is not one this server issued.");
  return seq;
}

export function planListing(resourceType: ResourceTypeName, tenantId: string, request: ListRequest): ListPlan {
  const table = resourceType === "User" ? users : groups;
  const filter = request.filter ? compileFilter(resourceType, tenantId, request.filter) : undefined;
  const narrowing = request.filter !== undefined ? narrowingOf(resourceType, request.filter) : undefined;
  const scan = scanOf(resourceType, tenantId, request, narrowing);
  // The page and the count bind the shared filter's indexed part beside the filter.
  if (filter && scan?.sharedIndex) new FilterLimits().checkRendered(sql`${filter} ${scan.sharedIndex}`);
  const limit = (n: number) => (scan ? { limit: budgetedLimit(resourceType, tenantId, scan, n), scan } : { limit: n });
  if (request.cursor !== undefined) {
    if (request.sortBy) throw scimErrors.invalidValue("sortBy cannot be combined with cursor paging.");
    const after = gt(table.seq, decodeCursor(request.cursor));
    // One row more than asked tells whether a next page exists.
    return { filter, where: and(filter, after), orderBy: [asc(table.seq)], offset: 0, ...limit(request.count + 1) };
  }
  if (!filter && !request.sortBy && request.startIndex > 1) {
    return { filter, ...seekToIndex(resourceType, tenantId, request.startIndex - 1), orderBy: [asc(table.seq)], limit: request.count };
  }
  const direction = request.sortOrder === "descending" ? desc : asc;
  const orderBy = request.sortBy ? [direction(sortExpression(resourceType, request.sortBy)), asc(table.seq)] : [asc(table.seq)];
  return { filter, where: filter, orderBy, offset: request.startIndex - 1, ...limit(request.count) };
}

/**
 * A list that reads the whole tenant (a filter no index narrows, or a sort without one), or
 * the index matches of a shared filter that also has other terms (`externalId eq "x" and title
 * co "y"` reads every user with that externalId): both within the scan budget. A shared filter
 * that is only index equalities and reads no document (`externalId eq`, `members[value eq]`)
 * is not budgeted: its page reads `count` index matches. `emails eq` is budgeted: each match's
 * document is checked too.
 */
function scanOf(resourceType: ResourceTypeName, tenantId: string, request: ListRequest, narrowing: Narrowing | undefined): ScanPlan | undefined {
  if (narrowing === "unique" || (!request.filter && !request.sortBy)) return undefined;
  const terms = (request.filter ? jsonTerms(resourceType, request.filter) : 0) + (request.sortBy && readsDocument(resourceType, request.sortBy) ? 1 : 0);
  if (narrowing === "shared" && request.filter) {
    const indexed = indexedPart(resourceType, request.filter);
    if (!indexed) throw new Error("a shared filter has an indexed part");
    if (terms === 0 && JSON.stringify(indexed) === JSON.stringify(request.filter)) return undefined;
    return { reason: "filter", jsonTerms: terms, sharedIndex: compileIndexLookup(resourceType, tenantId, indexed) };
  }
  return { reason: request.filter ? "filter" : "sort", jsonTerms: terms };
}

/** Drizzle types OFFSET as a number but renders whatever it is given; an SQL skip is embedded as is. */
export function offsetOf(offset: number | SQL): number {
  return offset as number;
}

/** The same for LIMIT: an SQL limit (the scan budget's) is embedded as is. */
export function limitOf(limit: number | SQL): number {
  return limit as number;
}
