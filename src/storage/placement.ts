/**
 * Where a new tenant goes, and what each shard holds (GET /admin/shards). Counted from each
 * shard's own copies of its tenants' rows (tenant-state.ts), whose counters every write keeps:
 * one statement per shard, no table scan beyond the shard's tenant rows.
 */
import { sql } from "drizzle-orm";
import { everyShard } from "./shards";
import { tenants } from "./schema";

export interface ShardSummary {
  shard: string;
  tenants: number;
  users: number;
  /** Sum of the tenants' user document sizes (characters): the bulk of a shard's data. */
  userDocChars: number;
  /** The database's size in bytes as D1 reports it (meta.size_after), when it does. */
  sizeBytes: number | null;
}

export async function shardSummaries(env: Cloudflare.Env): Promise<ShardSummary[]> {
  return Promise.all(
    everyShard(env).map(async ({ shard, db }) => {
      const result = await db.run(
        sql`SELECT count(*) AS tenants, coalesce(sum(${tenants.userCount}), 0) AS users, coalesce(sum(${tenants.userDocChars}), 0) AS docChars FROM ${tenants} WHERE ${tenants.shard} = ${shard}`,
      );
      const row = (result.results[0] ?? {}) as { tenants?: number; users?: number; docChars?: number };
      const size = (result.meta as { size_after?: number }).size_after;
      return { shard, tenants: row.tenants ?? 0, users: row.users ?? 0, userDocChars: row.docChars ?? 0, sizeBytes: typeof size === "number" ? size : null };
    }),
  );
}

/**
 * The shard with the least data: fewest user document characters, then fewest users, then
 * fewest tenants, then the first listed. The database size is not used: a shard that is `DB`
 * also holds the directory, which is not tenant data.
 */
export async function placeNewTenant(env: Cloudflare.Env): Promise<string> {
  const summaries = await shardSummaries(env);
  const ranked = summaries.map((s, order) => ({ ...s, order })).sort((a, b) => a.userDocChars - b.userDocChars || a.users - b.users || a.tenants - b.tenants || a.order - b.order);
  const chosen = ranked[0];
  if (!chosen) throw new Error("no shard configured");
  return chosen.shard;
}
