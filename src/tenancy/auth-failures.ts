/**
 * Records failed SCIM authentications for the operator (storage/auth-failures.ts), flood-proof:
 * failures accumulate per isolate and are written at most once a second per isolate, one
 * UPSERT per tenant with the count gathered meanwhile, in waitUntil. At most MAX_PENDING_TENANTS
 * tenants wait at once; failures for further tenant ids are dropped until the next write (a
 * flood of invented tenant ids cannot grow memory or the batch).
 */
import { type AuthFailureDelta, type AuthFailureReason, addAuthFailures, clearAuthFailures } from "../storage/auth-failures";
import type { Database } from "../storage/database";
import { shardDb, tenantShards } from "../storage/shards";
import { ExpiringCache } from "./expiring-cache";

const WRITE_INTERVAL_MS = 1_000;
const MAX_PENDING_TENANTS = 100;
const MAX_USER_AGENT_CHARS = 200;
/** How long this isolate remembers writing a tenant's failures, to reset them without reading. */
const RECORDED_TTL_MS = 5 * 60_000;

type WaitUntil = { waitUntil(promise: Promise<unknown>): void };

const pending = new Map<string, AuthFailureDelta>();
const recorded = new ExpiringCache<true>(1_000);
let lastWriteAt = 0;
let writeScheduled = false;

export function recordAuthFailure(ctx: WaitUntil, env: Cloudflare.Env, tenantId: string, reason: AuthFailureReason, userAgent: string | undefined): void {
  if (!tenantId) return;
  const now = Date.now();
  const at = new Date(now).toISOString();
  const agent = userAgent?.slice(0, MAX_USER_AGENT_CHARS) ?? null;
  const delta = pending.get(tenantId);
  if (delta) {
    Object.assign(delta, { count: delta.count + 1, lastAt: at, reason, userAgent: agent });
  } else {
    if (pending.size >= MAX_PENDING_TENANTS) return;
    pending.set(tenantId, { tenantId, count: 1, firstAt: at, lastAt: at, reason, userAgent: agent });
  }
  if (writeScheduled) return;
  writeScheduled = true;
  const wait = lastWriteAt + WRITE_INTERVAL_MS - now;
  ctx.waitUntil(wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)).then(() => writePending(env)) : writePending(env));
}

/**
 * The aggregates live in each tenant's shard, beside the row the token check reads: one
 * round trip per shard. A tenant id the directory does not know records nothing.
 */
async function writePending(env: Cloudflare.Env): Promise<void> {
  writeScheduled = false;
  lastWriteAt = Date.now();
  const deltas = [...pending.values()];
  pending.clear();
  for (const d of deltas) recorded.set(d.tenantId, true, lastWriteAt + RECORDED_TTL_MS);
  try {
    const shards = await tenantShards(env, deltas.map((d) => d.tenantId));
    const byShard = new Map<string, AuthFailureDelta[]>();
    for (const d of deltas) {
      const shard = shards.get(d.tenantId);
      if (shard !== undefined) byShard.set(shard, [...(byShard.get(shard) ?? []), d]);
    }
    for (const [shard, shardDeltas] of byShard) await addAuthFailures(shardDb(env, shard), shardDeltas);
  } catch (e: unknown) {
    console.error("auth failure write failed", e);
  }
}

/**
 * A request authenticated: failures this isolate holds for the tenant are dropped, and the
 * stored ones deleted when there are any, as far as this request knows: `stored` is the count
 * the tenant row carried (reads), undefined when the request read no tenant row (writes).
 * `cleared`: the request's own last-used stamp already deletes them.
 */
export function resetAuthFailures(ctx: WaitUntil, db: Database, tenantId: string, stored: number | undefined, cleared: boolean): void {
  const held = pending.delete(tenantId);
  const written = recorded.delete(tenantId);
  if (cleared || (!held && !written && !stored)) return;
  ctx.waitUntil(
    clearAuthFailures(db, tenantId)
      .run()
      .catch((e: unknown) => console.error("auth failure reset failed", e)),
  );
}
