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
 */
import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { scimErrors } from "../scim/errors";
import type { ResourceTypeName } from "../scim/schema";
import { NARROWING_ATTRIBUTES } from "./filter-cost";
import { tenants } from "./schema";

export const SCAN_BUDGET = 10_000;
export const SCAN_CHARS_BUDGET = 200_000_000;

/** Why a list request reads the whole tenant, and how many times it parses each document. */
export interface ScanPlan {
  reason: "filter" | "sort";
  jsonTerms: number;
}

/** The condition, on the tenants row, that a scan fits the budget (our constants, no input). */
function fits(resourceType: ResourceTypeName, scan: ScanPlan): SQL {
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
export function budgetedLimit(resourceType: ResourceTypeName, tenantId: string, scan: ScanPlan, limit: number): SQL {
  return sql`(SELECT CASE WHEN ${fits(resourceType, scan)} THEN ${limit} ELSE 0 END FROM ${tenants} WHERE ${tenants.id} = ${tenantId})`;
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

export interface TenantSize {
  tenantSize: number;
  tenantDocChars: number;
}

/** The 400 for a scan that does not fit (the page and count above read nothing then). */
export function requireScanBudget(resourceType: ResourceTypeName, scan: ScanPlan | undefined, size: TenantSize | undefined): void {
  if (!scan || !size) return;
  const chars = resourceType === "User" ? size.tenantDocChars * scan.jsonTerms : 0;
  if (size.tenantSize <= SCAN_BUDGET && chars <= SCAN_CHARS_BUDGET) return;
  const plural = resourceType === "User" ? "users" : "groups";
  const indexed = NARROWING_ATTRIBUTES[resourceType].join(", ");
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
