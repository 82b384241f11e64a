import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";

export type Database = DrizzleD1Database;

/** One place that opens D1: sharding tenants across databases later is a change here. */
export function database(d1: D1Database): Database {
  return drizzle(d1);
}
