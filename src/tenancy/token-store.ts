/**
 * KV `TOKENS`: the fast path from a token hash to its tenant (key formats in docs/storage.md).
 * KV is eventually consistent, so a hit here is never trusted alone: the tenant's current
 * token hash in D1 is checked in the same round trip as the request's own query. A miss is not
 * trusted either (a new token is not visible everywhere yet): D1 is asked (token-lookup.ts).
 */

const key = (tokenHash: string) => `token:v1:${tokenHash}`;

/**
 * Lookups may be served from the edge cache this long, misses too: D1 confirms every hit, and
 * a miss goes to D1.
 */
const CACHE_TTL_SECONDS = 300;

interface TokenEntry {
  tenantId: string;
}

export async function findTenantIdByTokenHash(kv: KVNamespace, tokenHash: string): Promise<string | undefined> {
  const entry = await kv.get<TokenEntry>(key(tokenHash), { type: "json", cacheTtl: CACHE_TTL_SECONDS });
  return entry?.tenantId;
}

/** Maps the hash to its tenant; entries written back after a D1 lookup expire (scim-auth.ts). */
export async function rememberToken(kv: KVNamespace, tokenHash: string, tenantId: string, options: { expiresInSeconds?: number } = {}): Promise<void> {
  const put = options.expiresInSeconds === undefined ? {} : { expirationTtl: options.expiresInSeconds };
  await kv.put(key(tokenHash), JSON.stringify({ tenantId } satisfies TokenEntry), put);
}

export async function forgetToken(kv: KVNamespace, tokenHash: string): Promise<void> {
  await kv.delete(key(tokenHash));
}
