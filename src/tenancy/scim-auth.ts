/**
 * Bearer authentication for /scim/v2/{tenantId}. The token's SHA-256 is looked up in KV
 * (token → tenant). When KV names the tenant in the URL (the fast path), nothing more happens
 * here: D1 confirms it is still the tenant's current token inside the request's own first batch
 * (storage/tenant-db.ts). When KV misses or names another tenant, D1 decides first
 * (token-lookup.ts, one extra round trip) and the mapping is written back to KV.
 *
 * The tenant's shard (storage/shards.ts) comes from this isolate's memory of placements, so the
 * fast path stays one KV read; only the first request of a tenant in an isolate reads it from
 * the directory. The request's batches then run on the shard, against its copy of the row.
 *
 * Every refusal is recorded for the operator (auth-failures.ts), and the first request that
 * authenticates after failures resets them.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { AuthenticationRefused, refused } from "../storage/auth-failures";
import type { Database } from "../storage/database";
import { directoryDb, shardDb, tenantShard } from "../storage/shards";
import { TenantDb } from "../storage/tenant-db";
import { touchTokenLastUsed } from "../storage/tenants";
import { recordAuthFailure, resetAuthFailures } from "./auth-failures";
import { clientNetwork, confirmTokenInD1 } from "./token-lookup";
import { findTenantIdByTokenHash, rememberToken } from "./token-store";
import { bearerToken, isWellFormedToken, sha256Hex } from "./tokens";

const LAST_USED_RESOLUTION_MS = 60_000;
/**
 * A write-back can race a rotation and map a token that was just replaced (harmless: D1 refuses
 * it in the request's batch). It expires, so such an entry does not stay in KV for good; a
 * current token's entry is then written back again at its next miss.
 */
const WRITE_BACK_TTL_SECONDS = 24 * 60 * 60;
/** Per isolate: when this isolate last stamped a tenant's token as used. */
const lastStamped = new Map<string, number>();

type Ctx = Context<AppEnv>;

export const scimAuth = createMiddleware<AppEnv>(async (c, next) => {
  const tenantId = c.req.param("tenantId") ?? "";
  let tokenHash: string;
  let shard: string | undefined;
  try {
    tokenHash = await authenticate(c, directoryDb(c.env), tenantId);
    shard = await tenantShard(c.env, tenantId);
    // KV can still map a deleted tenant's token for a while: the directory has the last word.
    if (shard === undefined) throw refused("unknown", "The bearer token is not valid for this tenant.");
  } catch (error) {
    if (error instanceof AuthenticationRefused) recordAuthFailure(c.executionCtx, c.env, tenantId, error.reason, c.req.header("User-Agent"));
    throw error;
  }
  const db = shardDb(c.env, shard);
  const tenantDb = new TenantDb(db, tenantId, tokenHash, shard);
  c.set("tenantDb", tenantDb);
  await next();

  if (c.error instanceof AuthenticationRefused) {
    // The tenant row refused the token (rotated, deleted, disabled) inside the request's batch.
    recordAuthFailure(c.executionCtx, c.env, tenantId, c.error.reason, c.req.header("User-Agent"));
    return;
  }
  if (tenantDb.storedAuthFailures === undefined && c.res.status >= 400) return; // not known to have authenticated
  // A stamp's batch clears the stored failures too (writes read no tenant row, so they learn of
  // failures only there); without a stamp, the reset is a write of its own, made only when
  // there are failures to clear.
  const stamped = c.res.status < 400 && stampLastUsed(c.executionCtx, db, tenantId, tokenHash);
  resetAuthFailures(c.executionCtx, db, tenantId, stamped ? 0 : tenantDb.storedAuthFailures, stamped);
});

/** The token's hash once KV or D1 maps it to the tenant in the URL; throws the refusal otherwise. */
async function authenticate(c: Ctx, db: Database, tenantId: string): Promise<string> {
  const header = c.req.header("Authorization");
  if (header === undefined) {
    throw refused("missing", "A bearer token is required: send 'Authorization: Bearer <token>'.");
  }
  const token = bearerToken(header);
  // Not a token this server could have issued: refused without a KV or D1 lookup.
  if (!token || !isWellFormedToken(token)) {
    throw refused("malformed", "A bearer token is required: send 'Authorization: Bearer <token>' with the token issued for this tenant.");
  }
  const tokenHash = await sha256Hex(token);
  if ((await findTenantIdByTokenHash(c.env.TOKENS, tokenHash)) === tenantId) return tokenHash;
  const { asked } = await confirmTokenInD1({
    db,
    budget: c.env.AUTH_FAILURE_RATE_LIMIT,
    tenantId,
    tokenHash,
    clientIp: clientNetwork(c.req.header("CF-Connecting-IP") ?? ""),
  });
  if (asked) {
    // KV allows about one write a second per key; a lost write-back only costs a later lookup.
    const writeBack = rememberToken(c.env.TOKENS, tokenHash, tenantId, { expiresInSeconds: WRITE_BACK_TTL_SECONDS });
    c.executionCtx.waitUntil(writeBack.catch((e: unknown) => console.warn("token KV write-back failed", e)));
  }
  return tokenHash;
}

/** "Last used" to the minute without a write per request: at most one a minute per isolate. */
function stampLastUsed(ctx: { waitUntil(promise: Promise<unknown>): void }, db: TenantDb["db"], tenantId: string, tokenHash: string): boolean {
  const now = Date.now();
  if (now - (lastStamped.get(tenantId) ?? 0) < LAST_USED_RESOLUTION_MS) return false;
  lastStamped.set(tenantId, now);
  const notSince = new Date(now - LAST_USED_RESOLUTION_MS).toISOString();
  ctx.waitUntil(touchTokenLastUsed(db, tenantId, tokenHash, new Date(now).toISOString(), notSince));
  return true;
}
