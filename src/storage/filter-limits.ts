/**
 * What a compiled filter may cost D1 before it is refused with 400 invalidFilter: bound
 * parameters (D1 allows 100 per statement) and SQL expression depth (SQLite refuses a tree
 * deeper than 100). Counted while compiling, so a filter that would fail in D1 never reaches it.
 */
import { type SQL, sql } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { type ScimError, scimErrors } from "../scim/errors";
import type { Filter } from "../scim/filter";

/** Leaves room under D1's 100 bound parameters for tenant id, paging and the like. */
export const MAX_FILTER_PARAMETERS = 80;

/**
 * SQLite refuses an expression tree deeper than 100 levels (SQLITE_MAX_EXPR_DEPTH as D1 sets
 * it), and the query around the filter takes a few (tenant, cursor). The filter's own SQL is
 * held to this depth, estimated from upper bounds measured on D1: an and/or level is 1 (chains
 * are balanced, so n terms take log2(n)), `not` is 2 (NOT COALESCE), a comparison at most
 * LEAF_SQL_DEPTH, a value filter 2, and inside a value filter's json_each subquery every level
 * counts twice (SQLite measures that condition twice over: `emails[not (… value eq "x")]`
 * failed at 23 nested `not`, a top-level one passed 32).
 */
export const MAX_FILTER_SQL_DEPTH = 80;

/** The deepest single comparison: `NOT COALESCE(lower(json_extract(doc, ?)) = ?, 0)` (ne). */
export const LEAF_SQL_DEPTH = 6;

const renderer = new SQLiteSyncDialect();

function tooManyParameters(): ScimError {
  return scimErrors.invalidFilter(`The filter is too complex: at most ${MAX_FILTER_PARAMETERS} values are allowed.`);
}

/** The running count of one compilation; one instance per compileFilter call. */
export class FilterLimits {
  private parameters = 0;
  /** The estimated SQL expression depth at the node being compiled. */
  private depth = 0;
  /** How much one level counts here: 2 inside a json_each value filter, else 1. */
  private levelWeight = 1;

  /** Counts one bound value (stops early; `checkRendered` has the final word). */
  countParameter(): void {
    this.parameters += 1;
    if (this.parameters > MAX_FILTER_PARAMETERS) throw tooManyParameters();
  }

  /** Refuses a node that would take the filter's SQL past MAX_FILTER_SQL_DEPTH. */
  requireDepth(levels: number): void {
    if (this.depth + levels * this.levelWeight > MAX_FILTER_SQL_DEPTH) {
      throw scimErrors.invalidFilter(
        "The filter is too complex: it nests too deeply once compiled. Use fewer nested 'not', parentheses or value filters.",
      );
    }
  }

  /** Compiles one node `levels` deeper than its parent. */
  deeper<T>(levels: number, compile: () => T): T {
    this.requireDepth(levels);
    const added = levels * this.levelWeight;
    this.depth += added;
    try {
      return compile();
    } finally {
      this.depth -= added;
    }
  }

  /** A json_each subquery's condition: 2 levels (AND, EXISTS), then each level counts twice. */
  insideJsonEach<T>(compile: () => T): T {
    return this.deeper(2, () => {
      const outer = this.levelWeight;
      this.levelWeight = 2;
      try {
        return compile();
      } finally {
        this.levelWeight = outer;
      }
    });
  }

  /**
   * `a and b and c …` as a balanced tree. The parser builds chains left-deep, and n terms would
   * nest n levels in SQL (97 terms passed SQLite's depth limit); balanced they nest log2(n).
   * AND and OR are associative in SQL's three-valued logic too, so the answer is the same.
   */
  chain(filter: Extract<Filter, { op: "and" | "or" }>, compile: (term: Filter) => SQL): SQL {
    const terms: Filter[] = [];
    const pending: Filter[] = [filter];
    for (let f = pending.pop(); f !== undefined; f = pending.pop()) {
      if (f.op === filter.op) pending.push(f.right, f.left);
      else terms.push(f);
    }
    const keyword = filter.op === "and" ? sql` AND ` : sql` OR `;
    const balanced = (from: number, to: number): SQL => {
      const only = terms[from];
      if (to - from === 1 && only !== undefined) return compile(only);
      const middle = (from + to) >>> 1;
      return this.deeper(1, () => sql`(${balanced(from, middle)}${keyword}${balanced(middle, to)})`);
    };
    return balanced(0, terms.length);
  }

  /**
   * The final parameter count, from the rendered SQL: an expression can reach the statement
   * more than once (`pr` repeats its operand) and some constants are bound too
   * (`meta.resourceType`), and the rendered statement is what D1 counts.
   */
  checkRendered(compiled: SQL): void {
    if (renderer.sqlToQuery(compiled).params.length > MAX_FILTER_PARAMETERS) throw tooManyParameters();
  }
}
