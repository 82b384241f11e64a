/**
 * Which tenants any enabled webhook endpoint listens to, cached per isolate for SCOPE_TTL_MS,
 * so a SCIM write whose tenant no endpoint wants sends no queue message at all (issue 11: a
 * deployment without webhooks pays nothing per write). Read from D1 after the response, at
 * most once per TTL per isolate (concurrent writes share the read), never before it.
 *
 * Why a stale answer cannot lose an event: the cache only decides whether to *hint* the queue.
 * The event itself was written in the change's own batch with `enqueued_at` NULL, and only a
 * claim (fan-out.ts, which reads the endpoints from D1 in the same round trip) or the sweep's
 * mark (webhook-outbox.ts `markEventsNoEndpointWants`, with the endpoints read fresh from the
 * directory just before, and only for events written before that read) sets it. So:
 * - cache says "nobody listens" but an endpoint was just created or enabled: the write sends
 *   nothing, the event stays unenqueued, and the every-minute sweep sends its tenant message a
 *   minute later; the consumer then fans it out to the endpoint. Late by up to ~2 minutes, not lost.
 * - cache says "someone listens" but the endpoint was just deleted: one needless message, which
 *   the consumer answers by marking the events.
 * The admin API drops this isolate's copy on every endpoint change, so `wrangler dev` and the
 * tests see a change at once; other isolates within SCOPE_TTL_MS.
 */
import { directoryDb } from "../storage/shards";
import { enabledEndpointTenantScopes } from "../storage/webhooks";

export const SCOPE_TTL_MS = 10_000;

/** `all`: some endpoint has no tenantIds filter. Otherwise the union of the enabled endpoints' tenantIds. */
export type EndpointScope = { all: true } | { all: false; tenantIds: ReadonlySet<string> };

let cached: { scope: EndpointScope; expiresAt: number } | undefined;
let loading: Promise<EndpointScope> | undefined;
/** Bumped by forgetEndpointScope, so a read that started before a change does not cache its stale answer. */
let generation = 0;

export function scopeOf(tenantIdLists: readonly (readonly string[] | null)[]): EndpointScope {
  if (tenantIdLists.some((ids) => ids === null)) return { all: true };
  return { all: false, tenantIds: new Set(tenantIdLists.flatMap((ids) => ids ?? [])) };
}

async function load(env: Cloudflare.Env): Promise<EndpointScope> {
  const started = generation;
  const scope = scopeOf(await enabledEndpointTenantScopes(directoryDb(env)));
  if (started === generation) cached = { scope, expiresAt: Date.now() + SCOPE_TTL_MS };
  return scope;
}

export async function endpointScope(env: Cloudflare.Env): Promise<EndpointScope> {
  if (cached && cached.expiresAt > Date.now()) return cached.scope;
  loading ??= load(env).finally(() => {
    loading = undefined;
  });
  return loading;
}

export async function anyEndpointWantsTenant(env: Cloudflare.Env, tenantId: string): Promise<boolean> {
  const scope = await endpointScope(env);
  return scope.all || scope.tenantIds.has(tenantId);
}

/** After an endpoint was created, changed or deleted through this isolate. */
export function forgetEndpointScope(): void {
  generation += 1;
  cached = undefined;
  loading = undefined;
}
