/**
 * The scan budget: a list request that reads the whole tenant (filter-cost.ts: a filter no
 * index narrows, or a sort) runs only while the tenant is small enough, and is otherwise
 * refused with 400 before it reads a document. Small enough means both:
 * - at most SCAN_BUDGET resources (users or groups), from the counters every write keeps;
 * - for users, at most SCAN_CHARS_BUDGET characters of documents times the filter's JSON
 *   terms (tenants.user_doc_chars, kept by every user write): a scan parses every document
 *   once per term, about 0.7 ms per MB, so this keeps one scan statement near 150 ms however
 *   large the documents are.
 * A page and its totalResults are two such statements.
 *
 * A filter narrowed only by a non-unique index (filter-cost.ts: shared, e.g. `externalId eq`)
 * reads that index's matches, however many resources share the value: the same budget then
 * applies to the number of index matches instead of the tenant's size (counted up to
 * SCAN_BUDGET + 1 from the index alone), and to their documents at most MAX_DOCUMENT_BYTES each.
 */
import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { scimErrors } from "../scim/errors";
import type { ResourceTypeName } from "../scim/schema";
import { MAX_DOCUMENT_BYTES } from "./document-size";
import { NARROWING_ATTRIBUTES } from "./filter-cost";
import { groups, tenants, users } from "./schema";

export const SCAN_BUDGET = 10_000;
export const SCAN_CHARS_BUDGET = 200_000_000;

/** Why a list request reads the whole tenant, and how many times it parses each document. */
export interface ScanPlan {
  reason: "filter" | "sort";
  jsonTerms: number;
  /**
   * For a shared filter, its index-answered part (filter-cost.ts indexedPart, compiled by
   * filter-sql.ts compileIndexLookup to read no document): the scan is over its matches.
   */
  sharedIndex?: SQL;
}

/** The count statement's materialized table of a shared filter's index matches (sharedCount). */
const SHARED_MATCHES = "shared_matches";

/** The matches of a shared filter's indexed part, counted up to SCAN_BUDGET + 1 (index entries only). */
function indexMatches(resourceType: ResourceTypeName, tenantId: string, indexed: SQL, from: "inline" | "table"): SQL<number> {
  if (from === "table") return sql<number>`(SELECT "n" FROM ${sql.identifier(SHARED_MATCHES)})`;
  const table = resourceType === "User" ? users : groups;
  return sql<number>`(SELECT count(*) FROM (SELECT 1 FROM ${table} WHERE ${table.tenantId} = ${tenantId} AND ${indexed} LIMIT ${sql.raw(String(SCAN_BUDGET + 1))}))`;
}

/**
 * How many index matches a shared filter may read: SCAN_BUDGET, or, when the tenant's
 * documents times the terms pass SCAN_CHARS_BUDGET, as many documents of the largest size as
 * fit it (190 for one term).
 */
function sharedMatchesAllowed(jsonTerms: number): number {
  return Math.min(SCAN_BUDGET, Math.floor(SCAN_CHARS_BUDGET / (Math.max(jsonTerms, 1) * MAX_DOCUMENT_BYTES)));
}

/** The condition, on the tenants row, that a shared filter's index matches fit the budget (one count). */
function sharedFits(resourceType: ResourceTypeName, tenantId: string, scan: ScanPlan, indexed: SQL, from: "inline" | "table"): SQL {
  const matches = indexMatches(resourceType, tenantId, indexed, from);
  if (resourceType === "Group" || scan.jsonTerms === 0) return sql`${matches} <= ${sql.raw(String(SCAN_BUDGET))}`;
  // CASE evaluates one branch: the index matches are counted once.
  const terms = sql.raw(String(scan.jsonTerms));
  return sql`${matches} <= CASE WHEN ${tenants.userDocChars} * ${terms} <= ${sql.raw(String(SCAN_CHARS_BUDGET))} THEN ${sql.raw(String(SCAN_BUDGET))} ELSE ${sql.raw(String(sharedMatchesAllowed(scan.jsonTerms)))} END`;
}

/** The condition, on the tenants row, that a scan fits the budget (our constants, no input). */
function fits(resourceType: ResourceTypeName, tenantId: string, scan: ScanPlan, from: "inline" | "table"): SQL {
  if (scan.sharedIndex) return sharedFits(resourceType, tenantId, scan, scan.sharedIndex, from);
  const counter = resourceType === "User" ? tenants.userCount : tenants.groupCount;
  const withinCount = sql`${counter} <= ${sql.raw(String(SCAN_BUDGET))}`;
  if (resourceType === "Group" || scan.jsonTerms === 0) return withinCount;
  return sql`${withinCount} AND ${tenants.userDocChars} * ${sql.raw(String(scan.jsonTerms))} <= ${sql.raw(String(SCAN_CHARS_BUDGET))}`;
}

/**
 * A scan page's LIMIT: 0 when the scan does not fit. SQLite checks a LIMIT of 0 before the
 * loop starts, so a refused scan reads no row of the table; a WHERE term would not do, since
 * SQLite evaluates a subquery term per row.
 */
export function budgetedLimit(resourceType: ResourceTypeName, tenantId: string, scan: ScanPlan, limit: number, from: "inline" | "table" = "inline"): SQL {
  return sql`(SELECT CASE WHEN ${fits(resourceType, tenantId, scan, from)} THEN ${limit} ELSE 0 END FROM ${tenants} WHERE ${tenants.id} = ${tenantId})`;
}

/**
 * The rows a filtered list counts for totalResults, as a derived table: for a scan that does
 * not fit, its LIMIT is 0 and the count reads nothing. (A derived table, so the filter's
 * expression tree is no deeper than in the page query: SQLite caps it at depth 100.)
 */
export function countedMatches(resourceType: ResourceTypeName, tenantId: string, matching: SQL, scan: ScanPlan | undefined): SQL {
  const table = resourceType === "User" ? "users" : "groups";
  const limit = scan ? sql` LIMIT ${budgetedLimit(resourceType, tenantId, scan, SCAN_BUDGET)}` : sql``;
  return sql`(SELECT 1 FROM ${sql.identifier(table)} WHERE ${matching}${limit}) AS matches`;
}

/** The tenant's size, selected beside totalResults, for requireScanBudget. */
export function tenantSizeFields(resourceType: ResourceTypeName, tenantId: string) {
  const of = (column: SQLiteColumn) => sql<number>`(SELECT ${column} FROM ${tenants} WHERE ${tenants.id} = ${tenantId})`;
  return {
    tenantSize: of(resourceType === "User" ? tenants.userCount : tenants.groupCount).as("tenant_size"),
    tenantDocChars: (resourceType === "User" ? of(tenants.userDocChars) : sql<number>`0`).as("tenant_doc_chars"),
  };
}

/** The columns of sharedCount, named as countedMatches' count and tenantSizeFields. */
export const sharedCountFields = {
  total: sql<number>`"total"`,
  tenantSize: sql<number>`"tenant_size"`,
  tenantDocChars: sql<number>`"tenant_doc_chars"`,
};

/**
 * A shared filter's count statement, as a derived table of one row (sharedCountFields): its
 * index matches are needed twice (the count's LIMIT and the size requireScanBudget checks), so
 * they are counted once into a MATERIALIZED table (without the hint D1's SQLite counts them
 * once per use) and the filter's values are bound once (D1's 100 parameters).
 */
export function sharedCount(resourceType: ResourceTypeName, tenantId: string, matching: SQL, scan: ScanPlan & { sharedIndex: SQL }): SQL {
  const table = resourceType === "User" ? "users" : "groups";
  const counted = indexMatches(resourceType, tenantId, scan.sharedIndex, "inline");
  const limit = budgetedLimit(resourceType, tenantId, scan, SCAN_BUDGET, "table");
  const { tenantDocChars } = tenantSizeFields(resourceType, tenantId);
  return sql`(WITH ${sql.identifier(SHARED_MATCHES)} AS MATERIALIZED (SELECT ${counted} AS "n")
    SELECT (SELECT count(*) FROM (SELECT 1 FROM ${sql.identifier(table)} WHERE ${matching} LIMIT ${limit})) AS "total",
      ${indexMatches(resourceType, tenantId, scan.sharedIndex, "table")} AS "tenant_size", ${tenantDocChars}) AS "counted"`;
}

export interface TenantSize {
  tenantSize: number;
  tenantDocChars: number;
}

/** The 400 for a scan that does not fit (the page and count above read nothing then). */
export function requireScanBudget(resourceType: ResourceTypeName, scan: ScanPlan | undefined, size: TenantSize | undefined): void {
  if (!scan || !size) return;
  const chars = resourceType === "User" ? size.tenantDocChars * scan.jsonTerms : 0;
  const plural = resourceType === "User" ? "users" : "groups";
  const indexed = NARROWING_ATTRIBUTES[resourceType].join(", ");
  if (scan.sharedIndex) {
    const allowed = chars <= SCAN_CHARS_BUDGET ? SCAN_BUDGET : sharedMatchesAllowed(scan.jsonTerms);
    if (size.tenantSize <= allowed) return;
    const matches = size.tenantSize > SCAN_BUDGET ? `more than ${SCAN_BUDGET.toLocaleString("en")}` : size.tenantSize.toLocaleString("en");
    throw scimErrors.invalidFilter(
      `This filter would scan the ${matches} ${plural} that share its indexed value (externalId, emails and members are not unique; ` +
        `at most ${allowed.toLocaleString("en")} are scanned). Narrow it with id or ${resourceType === "User" ? "userName" : "displayName"} eq, or a rarer value.`,
    );
  }
  if (size.tenantSize <= SCAN_BUDGET && chars <= SCAN_CHARS_BUDGET) return;
  const what =
    size.tenantSize > SCAN_BUDGET
      ? `all ${size.tenantSize.toLocaleString("en")} ${plural} of the tenant (at most ${SCAN_BUDGET.toLocaleString("en")} are scanned)`
      : `${(chars / 1e6).toFixed(0)} MB of documents (${scan.jsonTerms} term(s) over ${(size.tenantDocChars / 1e6).toFixed(0)} MB; at most ${SCAN_CHARS_BUDGET / 1e6} MB are scanned)`;
  if (scan.reason === "filter") {
    throw scimErrors.invalidFilter(
      `This filter would scan ${what}: too many resources for a filter that no index narrows. ` +
        `Indexed attributes: ${indexed} (eq); combine the filter with one of them using 'and'.`,
    );
  }
  throw scimErrors.invalidValue(`sortBy would sort ${what}. Sort the matches of a filter on an indexed attribute (${indexed}, eq) instead.`);
}
