/**
 * KV `TOKENS`: the fast path from a token hash to its tenant (key formats in docs/storage.md).
 * KV is eventually consistent, so a hit here is never trusted alone: the tenant's current
 * token hash in D1 is checked in the same round trip as the request's own query.
 */

const key = (tokenHash: string) => `token:v1:${tokenHash}`;

/** Positive lookups may be served from the edge cache this long: D1 confirms every use. */
const CACHE_TTL_SECONDS = 300;

interface TokenEntry {
  tenantId: string;
}

export async function findTenantIdByTokenHash(kv: KVNamespace, tokenHash: string): Promise<string | undefined> {
  const entry = await kv.get<TokenEntry>(key(tokenHash), { type: "json", cacheTtl: CACHE_TTL_SECONDS });
  return entry?.tenantId;
}

export async function rememberToken(kv: KVNamespace, tokenHash: string, tenantId: string): Promise<void> {
  await kv.put(key(tokenHash), JSON.stringify({ tenantId } satisfies TokenEntry));
}

export async function forgetToken(kv: KVNamespace, tokenHash: string): Promise<void> {
  await kv.delete(key(tokenHash));
}
