/**
 * tenant.provisioning_failing / tenant.provisioning_recovered, once per change of a tenant's
 * health (src/tenancy/health.ts), with the most common failure and its count: what the
 * operator's app turns into the "provisioning is failing" email. Run by the every-minute
 * sweep for the tenants that logged requests in the last HEALTH_LOOKBACK_MS, at most
 * MAX_TENANTS a run, one D1 query each (plus one batch when the status changed).
 */
import { everyShard } from "../storage/shards";
import { announceHealth, type RecentRequest, recentlyActiveTenants, recentRequests } from "../storage/tenants";
import { tenantHealth } from "../tenancy/health";
import { enqueueTenantEvents } from "./dispatch";

export const HEALTH_LOOKBACK_MS = 120_000;
const MAX_TENANTS = 100;

function mostCommonFailure(recent: readonly RecentRequest[]) {
  const counts = new Map<string, { status: number; scimType: string | null; detail: string | null; count: number }>();
  for (const row of recent) {
    if (row.status < 400) continue;
    const key = JSON.stringify([row.status, row.scimType, row.detail]);
    const entry = counts.get(key) ?? { status: row.status, scimType: row.scimType, detail: row.detail, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count)[0] ?? null;
}

/** Returns how many tenants changed status. */
export async function announceHealthChanges(env: Cloudflare.Env, now: number): Promise<number> {
  let changed = 0;
  // The log, the event and the announced status are all in the tenant's shard.
  for (const { db } of everyShard(env)) {
    for (const tenantId of await recentlyActiveTenants(db, new Date(now - HEALTH_LOOKBACK_MS).toISOString(), MAX_TENANTS)) {
      const recent = await recentRequests(db, tenantId);
      // Recently active by construction, so never idle here: failing or healthy.
      const health = tenantHealth(recent, recent[0]?.at ?? null, now);
      const status = health.status === "failing" ? "failing" : "healthy";
      const data = { recentRequests: health.recentRequests, recentFailures: health.recentFailures, mostCommonFailure: mostCommonFailure(recent), since: health.since };
      if (await announceHealth(db, tenantId, status, data, new Date(now).toISOString())) {
        changed += 1;
        await enqueueTenantEvents(env, tenantId);
      }
    }
  }
  return changed;
}
