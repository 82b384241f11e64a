import { getTableName, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/**
 * `"table"."column"`. Drizzle renders columns unqualified in single-table queries, which is
 * wrong inside a correlated subquery: there the name would bind to the inner table.
 */
export function qualified(column: SQLiteColumn): SQL {
  return sql`${sql.identifier(getTableName(column.table))}.${sql.identifier(column.name)}`;
}
