/**
 * Where a test tenant's data lives. The workers project runs with two shards (vitest.config.ts:
 * TENANT_SHARDS = "SHARD_1,SHARD_2", the directory alone in DB) and places each new tenant on
 * the shard with the least data, so tenants of one test file land on both: a test that reads
 * or writes a tenant's rows directly asks here for its shard, as the app does (the directory
 * row's `shard`, src/storage/shards.ts). A query the app sent to any other database finds nothing.
 */
import { env } from "cloudflare:workers";
import { shardNames } from "../../src/storage/shards";

/** The tenant's shard binding name (`tenants.shard` in the directory); throws for an unknown tenant. */
export async function shardNameOf(tenantId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT shard FROM tenants WHERE id = ?").bind(tenantId).first<{ shard: string }>();
  if (!row) throw new Error(`shardNameOf: the directory has no tenant ${tenantId}`);
  return row.shard;
}

/** A D1 binding of `from` by name (`from` may be a counting env, test/support/counting-env.ts). */
export function shardBinding(name: string, from: Cloudflare.Env = env): D1Database {
  const value: unknown = (from as unknown as Record<string, unknown>)[name];
  if (typeof value !== "object" || value === null || !("batch" in value)) throw new Error(`shardBinding: no D1 binding ${name}`);
  return value as D1Database;
}

/** The D1 database holding the tenant's data, taken from `from` (the test env unless given). */
export async function shardOf(tenantId: string, from: Cloudflare.Env = env): Promise<D1Database> {
  return shardBinding(await shardNameOf(tenantId), from);
}

/** Every shard of the test deployment, for checks that no shard holds a row (an unknown tenant's). */
export function everyShard(from: Cloudflare.Env = env): D1Database[] {
  return shardNames(from).map((name) => shardBinding(name, from));
}
