/**
 * The token check's slow path, for when KV does not map the token to the tenant in the URL.
 * KV is eventually consistent: a new token is visible at first only where it was written, and
 * a miss is cached at the edge for cacheTtl. So a KV miss (or a hit for another tenant) is not a
 * verdict: D1, the authority, is asked through its token-hash index. That costs one extra D1
 * round trip; the request's own batch still confirms the token as on the fast path.
 *
 * Made-up tokens must not become unbounded D1 lookups, so the slow path is bounded twice:
 * - per isolate, D1's answer for a (tenant, token hash) is kept a few seconds (a repeated bad
 *   token costs nothing);
 * - per client (the tenant in the URL and CF-Connecting-IP, an IPv6 address by its /64: one
 *   subscriber holds a whole /64, so single addresses would be fresh budgets for free), failed authentications on this path
 *   spend AUTH_FAILURE_RATE_LIMIT (60 a minute). Over it the answer is 429, and the isolate stops
 *   asking D1 for that client for BLOCK_MS. Failures at tenant ids that do not exist share one
 *   budget per address, so inventing tenant ids does not buy fresh budgets.
 */
import { ScimError } from "../scim/errors";
import { AuthenticationRefused, refused } from "../storage/auth-failures";
import type { Database } from "../storage/database";
import { lookupTokenHash, type TokenHashLookup } from "../storage/tenants";
import { ExpiringCache } from "./expiring-cache";

const LOOKUP_TTL_MS = 5_000;
const MAX_LOOKUPS = 1_000;
const BLOCK_MS = 10_000;
const MAX_BLOCKED_CLIENTS = 1_000;
/** Tenants this isolate saw in D1: they keep their own budget while an address is blocked for made-up tenant ids. */
const KNOWN_TENANT_TTL_MS = 10 * 60_000;
const MAX_KNOWN_TENANTS = 10_000;
const RETRY_AFTER_SECONDS = 60;
const NO_SUCH_TENANT = "no-such-tenant";

const lookups = new ExpiringCache<TokenHashLookup>(MAX_LOOKUPS);
const blockedClients = new ExpiringCache<true>(MAX_BLOCKED_CLIENTS);
const knownTenants = new ExpiringCache<true>(MAX_KNOWN_TENANTS);

export interface SlowPathRequest {
  db: Database;
  /** Failed authentications per client (wrangler.toml AUTH_FAILURE_RATE_LIMIT). */
  budget: RateLimit;
  tenantId: string;
  tokenHash: string;
  /** CF-Connecting-IP; empty when absent (local development). */
  clientIp: string;
}

/**
 * Resolves when D1 says the token is the tenant's current one. `asked` tells whether D1 was
 * asked (then the caller writes the mapping back to KV). Throws AuthenticationRefused (401, or
 * 429 over the budget) otherwise, or a plain 429 when the client is blocked before any lookup.
 */
export async function confirmTokenInD1(request: SlowPathRequest): Promise<{ asked: boolean }> {
  const { tenantId, tokenHash, clientIp } = request;
  const now = Date.now();
  const key = `${tenantId} ${tokenHash}`;
  let lookup = lookups.get(key, now);
  const asked = lookup === undefined;
  if (!lookup) {
    if (isBlocked(tenantId, clientIp, now)) throw tooManyFailures();
    lookup = await lookupTokenHash(request.db, tokenHash, tenantId);
    lookups.set(key, lookup, now + LOOKUP_TTL_MS);
    if (lookup.tenantExists) knownTenants.set(tenantId, true, now + KNOWN_TENANT_TTL_MS);
  }
  if (lookup.owner === tenantId) return { asked };
  const reason = lookup.owner ? "other-tenant" : lookup.previousOwner === tenantId ? "rotated" : "unknown";
  const clientKey = `${lookup.tenantExists ? tenantId : NO_SUCH_TENANT} ${clientIp}`;
  const { success } = await request.budget.limit({ key: clientKey });
  if (!success) {
    blockedClients.set(clientKey, true, now + BLOCK_MS);
    throw new AuthenticationRefused(reason, tooManyFailures());
  }
  throw refused(reason, "The bearer token is not valid for this tenant.");
}

/**
 * The client as the failure budget counts it: an IPv4 address as it is, an IPv6 address by its
 * /64 prefix (an IPv4-mapped IPv6 address as its IPv4 address). Anything else is used as it is.
 */
export function clientNetwork(ip: string): string {
  if (!ip.includes(":")) return ip;
  const mappedV4 = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  if (mappedV4?.[1]) return mappedV4[1];
  const [head = "", tail, ...extra] = ip.split("::");
  if (extra.length > 0) return ip;
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headParts.length - tailParts.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return ip;
  const hextets = [...headParts, ...Array<string>(missing).fill("0"), ...tailParts];
  const prefix = hextets.slice(0, 4).map((h) => (/^[0-9a-f]{1,4}$/i.test(h) ? parseInt(h, 16).toString(16) : h));
  return `${prefix.join(":")}::/64`;
}

function isBlocked(tenantId: string, clientIp: string, now: number): boolean {
  if (blockedClients.get(`${tenantId} ${clientIp}`, now)) return true;
  return blockedClients.get(`${NO_SUCH_TENANT} ${clientIp}`, now) === true && !knownTenants.get(tenantId, now);
}

function tooManyFailures(): ScimError {
  return new ScimError(429, "Too many failed authentications from this client; retry after the delay in Retry-After.", undefined, {
    "Retry-After": String(RETRY_AFTER_SECONDS),
  });
}
