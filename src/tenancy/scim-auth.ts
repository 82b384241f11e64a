/**
 * Bearer authentication for /scim/v2/{tenantId}. The token's SHA-256 is looked up in KV
 * (token → tenant) and must name the tenant in the URL; D1 then confirms it is still the
 * tenant's current token inside the request's own first batch (see storage/tenant-db.ts).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { scimErrors } from "../scim/errors";
import { database } from "../storage/database";
import { TenantDb } from "../storage/tenant-db";
import { touchTokenLastUsed } from "../storage/tenants";
import { findTenantIdByTokenHash } from "./token-store";
import { bearerToken, sha256Hex } from "./tokens";

const LAST_USED_RESOLUTION_MS = 60_000;
/** Per isolate: when this isolate last stamped a tenant's token as used. */
const lastStamped = new Map<string, number>();

export const scimAuth = createMiddleware<AppEnv>(async (c, next) => {
  const tenantId = c.req.param("tenantId") ?? "";
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) {
    throw scimErrors.unauthorized("A bearer token is required: send 'Authorization: Bearer <token>'.");
  }
  const tokenHash = await sha256Hex(token);
  const owner = await findTenantIdByTokenHash(c.env.TOKENS, tokenHash);
  if (owner !== tenantId) {
    throw scimErrors.unauthorized("The bearer token is not valid for this tenant.");
  }
  const db = database(c.env.DB);
  c.set("tenantDb", new TenantDb(db, tenantId, tokenHash));
  await next();
  if (c.res.status < 400) stampLastUsed(c.executionCtx, db, tenantId, tokenHash);
});

/** "Last used" to the minute without a write per request: at most one a minute per isolate. */
function stampLastUsed(ctx: { waitUntil(promise: Promise<unknown>): void }, db: TenantDb["db"], tenantId: string, tokenHash: string): void {
  const now = Date.now();
  if (now - (lastStamped.get(tenantId) ?? 0) < LAST_USED_RESOLUTION_MS) return;
  lastStamped.set(tenantId, now);
  const notSince = new Date(now - LAST_USED_RESOLUTION_MS).toISOString();
  ctx.waitUntil(touchTokenLastUsed(db, tenantId, tokenHash, new Date(now).toISOString(), notSince));
}
