/**
 * Tenant lifecycle across D1 (the authority) and KV (token hash → tenant, the fast path).
 * Order matters for revocation: a new token is written to KV before D1 points at it, and
 * the old KV entry is removed after D1 stopped accepting it, so no step leaves a valid
 * token unusable or a void one accepted.
 */
import type { Database } from "../storage/database";
import { placeNewTenant } from "../storage/placement";
import { directoryDb, forgetPlacement, rememberPlacement, shardDb } from "../storage/shards";
import { shardStateQuery, withShardState } from "../storage/tenant-state";
import {
  deleteTenantAndData,
  findSetupLink,
  insertTenant,
  type NewSetupLink,
  redeemSetupLink,
  replaceSetupLink,
  replaceToken,
  revokeSetupLinks,
  type SetupLinkState,
  type TenantRow,
  type TenantSettings,
} from "../storage/tenants";
import { forgetToken, rememberToken } from "./token-store";
import { issueSetupCode, issueToken, sha256Hex } from "./tokens";

export const SETUP_LINK_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * A token an IdP used within this window counts as a working integration: redeeming a setup
 * link would void it, so the page asks for an explicit confirmation first. Entra ID syncs about
 * every 40 minutes and Okta at least on every assignment change, so a live integration is well
 * inside it; a token idle for a month is treated as abandoned. ("Last used" has a resolution of
 * a minute, see scim-auth.ts.)
 */
export const CONNECTED_IDP_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

/** The Worker's bindings: the directory, the tenant's shard (storage/shards.ts) and KV. */
export interface TenantServices {
  env: Cloudflare.Env;
}

export interface IssuedTenantToken {
  tenant: TenantRow;
  token: string;
}

export interface IssuedSetupLink {
  code: string;
  expiresAt: string;
}

/** Creates the tenant with its token, and with a setup link only when asked for one. */
/** Creates the tenant on `shard` (else the shard with the least data), with its token, and a setup link only when asked for one. */
export async function createTenant(
  { env }: TenantServices,
  settings: TenantSettings,
  options: { setupLink?: boolean; shard?: string } = {},
): Promise<IssuedTenantToken & { setupLink?: IssuedSetupLink }> {
  const now = new Date();
  const tenantId = crypto.randomUUID();
  const token = await issueToken();
  const link = options.setupLink ? await newSetupLink(now) : undefined;
  const shard = options.shard ?? (await placeNewTenant(env));
  await rememberToken(env.TOKENS, token.hash, tenantId);
  const tenant = await insertTenant(
    { directory: directoryDb(env), shard: { name: shard, db: shardDb(env, shard) } },
    tenantId,
    settings,
    token,
    now.toISOString(),
    link?.stored,
  );
  rememberPlacement(tenantId, shard);
  return link ? { tenant, token: token.secret, setupLink: link.issued } : { tenant, token: token.secret };
}

/**
 * Issues a new token and returns it; the previous one is void as soon as this returns. The KV
 * entry removed is the one D1's write replaced, not the one read before: with concurrent
 * rotations each removes its own predecessor, so KV keeps only the last token. Undefined when
 * the tenant was deleted meanwhile.
 */
export async function rotateToken({ env }: TenantServices, tenant: TenantRow): Promise<string | undefined> {
  const kv = env.TOKENS;
  const now = new Date().toISOString();
  const token = await issueToken();
  await rememberToken(kv, token.hash, tenant.id);
  const written = await replaceToken(tenantDatabases(env, tenant), tenant.id, token, now);
  if (!written) {
    await forgetToken(kv, token.hash);
    return undefined;
  }
  if (written.replaced) await forgetToken(kv, written.replaced);
  return token.secret;
}

export async function removeTenant({ env }: TenantServices, tenant: TenantRow): Promise<void> {
  await deleteTenantAndData(tenantDatabases(env, tenant), tenant.id);
  forgetPlacement(tenant.id);
  if (tenant.tokenHash) await forgetToken(env.TOKENS, tenant.tokenHash);
}

/** The directory and the tenant's shard, from its directory row. */
export function tenantDatabases(env: Cloudflare.Env, tenant: Pick<TenantRow, "shard">): { directory: Database; shard: Database } {
  return { directory: directoryDb(env), shard: shardDb(env, tenant.shard) };
}

async function newSetupLink(now: Date): Promise<{ issued: IssuedSetupLink; stored: NewSetupLink }> {
  const code = await issueSetupCode();
  const expiresAt = new Date(now.getTime() + SETUP_LINK_TTL_MS).toISOString();
  return { issued: { code: code.secret, expiresAt }, stored: { codeHash: code.hash, expiresAt } };
}

/** Issues the tenant's setup link; the previous one, if still live, stops working with this write. */
export async function createSetupLink(db: Database, tenantId: string): Promise<IssuedSetupLink> {
  const now = new Date();
  const link = await newSetupLink(now);
  await replaceSetupLink(db, tenantId, link.stored, now.toISOString());
  return link.issued;
}

export async function revokeSetupLink(db: Database, tenantId: string): Promise<void> {
  await revokeSetupLinks(db, tenantId, new Date().toISOString());
}

/** Whether an IdP used the tenant's current token recently (see CONNECTED_IDP_WINDOW_MS). */
export function hasConnectedIdp(tenant: TenantRow, now = Date.now()): boolean {
  return tenant.tokenLastUsedAt !== null && Date.parse(tenant.tokenLastUsedAt) > now - CONNECTED_IDP_WINDOW_MS;
}

/** The link and its tenant, with the shard copy's "last used" (the page warns about a connected IdP). */
export async function inspectSetupLink(env: Cloudflare.Env, code: string): Promise<SetupLinkState | undefined> {
  const state = await findSetupLink(directoryDb(env), await sha256Hex(code), new Date().toISOString());
  if (!state) return undefined;
  const shardState = await shardStateQuery(shardDb(env, state.tenant.shard), state.tenant.id).get();
  return { ...state, tenant: withShardState(state.tenant, shardState) };
}

/** Applies the setup form and issues the token, once per link. Undefined when the code is unusable. */
export async function completeSetup({ env }: TenantServices, code: string, settings: Partial<TenantSettings>): Promise<IssuedTenantToken | undefined> {
  const kv = env.TOKENS;
  const state = await inspectSetupLink(env, code);
  if (!state?.usable) return undefined;
  const token = await issueToken();
  await rememberToken(kv, token.hash, state.tenant.id);
  const redeemed = await redeemSetupLink(tenantDatabases(env, state.tenant), await sha256Hex(code), settings, token, new Date().toISOString());
  if (!redeemed) {
    await forgetToken(kv, token.hash);
    return undefined;
  }
  if (redeemed.previousTokenHash) await forgetToken(kv, redeemed.previousTokenHash);
  return { tenant: redeemed.tenant, token: token.secret };
}
