/**
 * The one place that names D1 bindings (issue 15). One D1 database holds at most 10 GB and runs
 * one query at a time (../shared/PRODUCTION-LIMITS.md), so tenants are spread over several:
 * - the **directory** (`DB`) holds what spans tenants: tenants and their placement
 *   (`tenants.shard`), token hashes for the slow-path lookup, setup links, webhook endpoints
 *   and deliveries;
 * - each tenant's data (users, emails, groups, members, events, request log, paging blocks, app
 *   accounts and groups, auth-failure aggregates) lives in its **shard**, one of the D1 bindings
 *   that `TENANT_SHARDS` names (wrangler.toml, e.g. "SHARD_0,SHARD_1"). A shard may be `DB`
 *   itself, so a small deployment keeps one database; unset, `TENANT_SHARDS` is "DB".
 *
 * Every database runs the same migrations, so a shard also has a `tenants` table: it holds the
 * **shard copy** of each of its tenants' rows (settings, token hash, enabled and sync flags,
 * counters), which the request's own batch checks (storage/tenant-db.ts, tenant-state.ts).
 *
 * How a call site gets its database:
 * - cross-tenant data (tenants, setup links, webhooks): `directoryDb(env)`;
 * - one tenant's data: `await tenantShardDb(env, tenantId)` (undefined: no such tenant), or
 *   `shardDb(env, row.shard)` when the directory row is already at hand;
 * - maintenance over every tenant: `everyShard(env)`.
 */
import { eq, inArray } from "drizzle-orm";
import { chunk } from "./chunk";
import { type Database, database } from "./database";
import { tenants } from "./schema";

/** The directory binding; also the shard of tenants placed before sharding (migration 0015). */
export const DIRECTORY_BINDING = "DB";

/** Placements this isolate has read: a tenant's shard changes only by a move, which updates it here. */
const placements = new Map<string, string>();
const MAX_PLACEMENTS = 10_000;

export function directoryDb(env: Cloudflare.Env): Database {
  return database(env.DB);
}

/** The shard names TENANT_SHARDS lists, in order; "DB" when it is unset or empty. */
export function shardNames(env: Cloudflare.Env): string[] {
  const listed = (env.TENANT_SHARDS ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  return listed.length > 0 ? [...new Set(listed)] : [DIRECTORY_BINDING];
}

/** Whether `name` is a shard of this deployment (`DB` always is: tenants placed before sharding live there). */
export function isShard(env: Cloudflare.Env, name: string): boolean {
  return name === DIRECTORY_BINDING || shardNames(env).includes(name);
}

function binding(env: Cloudflare.Env, name: string): D1Database {
  const value: unknown = (env as unknown as Record<string, unknown>)[name];
  if (!isShard(env, name) || typeof value !== "object" || value === null || !("batch" in value)) {
    throw new Error(`D1 shard binding ${name} is not configured (TENANT_SHARDS and [[d1_databases]] in wrangler.toml)`);
  }
  return value as D1Database;
}

/** A shard by its binding name (the directory row's `shard`). */
export function shardDb(env: Cloudflare.Env, shard: string): Database {
  return database(binding(env, shard));
}

/** Every shard once (a shard that is `DB` too is listed once), for maintenance across tenants. */
export function everyShard(env: Cloudflare.Env): { shard: string; db: Database }[] {
  return shardNames(env).map((shard) => ({ shard, db: shardDb(env, shard) }));
}

/**
 * The directory and every shard, each database once: for what every shard keeps a copy of
 * (the deployment's role catalog, storage/roles.ts), the directory last.
 */
export function directoryAndEveryShard(env: Cloudflare.Env): Database[] {
  const names = shardNames(env).filter((name) => name !== DIRECTORY_BINDING);
  return [...names.map((name) => shardDb(env, name)), directoryDb(env)];
}

/** Records where a tenant lives (creation, a move, a directory read). */
export function rememberPlacement(tenantId: string, shard: string): void {
  if (!placements.has(tenantId) && placements.size >= MAX_PLACEMENTS) placements.clear();
  placements.set(tenantId, shard);
}

export function forgetPlacement(tenantId: string): void {
  placements.delete(tenantId);
}

/**
 * The tenant's shard name: from this isolate's memory, else one directory read (then kept).
 * Undefined when the directory has no such tenant.
 */
export async function tenantShard(env: Cloudflare.Env, tenantId: string): Promise<string | undefined> {
  const known = placements.get(tenantId);
  if (known !== undefined) return known;
  const row = await directoryDb(env).select({ shard: tenants.shard }).from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!row) return undefined;
  rememberPlacement(tenantId, row.shard);
  return row.shard;
}

/** The shards of many tenants: those this isolate does not know in one directory read per 90 ids. Unknown tenants are left out. */
export async function tenantShards(env: Cloudflare.Env, tenantIds: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const unknown = tenantIds.filter((id) => {
    const known = placements.get(id);
    if (known !== undefined) found.set(id, known);
    return known === undefined;
  });
  for (const ids of chunk(unknown, 90)) {
    const rows = await directoryDb(env).select({ id: tenants.id, shard: tenants.shard }).from(tenants).where(inArray(tenants.id, [...ids]));
    for (const row of rows) {
      rememberPlacement(row.id, row.shard);
      found.set(row.id, row.shard);
    }
  }
  return found;
}

/** The tenant's shard as a database, or undefined for a tenant the directory does not know. */
export async function tenantShardDb(env: Cloudflare.Env, tenantId: string): Promise<Database | undefined> {
  const shard = await tenantShard(env, tenantId);
  return shard === undefined ? undefined : shardDb(env, shard);
}
