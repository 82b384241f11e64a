import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";

/** drizzle over one D1 binding; `$client` is that binding (the column-generic copy of a tenant move uses it). */
export type Database = DrizzleD1Database & { $client: D1Database };

/** Wraps a D1 binding; only storage/shards.ts calls it, so nothing else names a binding. */
export function database(d1: D1Database): Database {
  return drizzle(d1);
}
