import { is, SQL } from "drizzle-orm";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";

/** drizzle over one D1 binding; `$client` is that binding (the column-generic copy of a tenant move uses it). */
export type Database = DrizzleD1Database & { $client: D1Database };

/** Wraps a D1 binding; only storage/shards.ts calls it, so nothing else names a binding. */
export function database(d1: D1Database): Database {
  return drizzle(d1);
}

const dialect = new SQLiteAsyncDialect();

/**
 * A D1 statement from a drizzle query or an sql`` template, for `db.$client.batch()`: drizzle's
 * own batch() cannot run a raw sql`` query that binds parameters (drizzle-orm 0.45's d1 session
 * looks for a prepared statement a raw query does not have), and one batch may need both.
 */
export function d1Statement(db: Database, query: SQL | { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql, params } = is(query, SQL) ? dialect.sqlToQuery(query) : query.toSQL();
  return db.$client.prepare(sql).bind(...params);
}
