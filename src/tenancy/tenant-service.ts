/**
 * Tenant lifecycle across D1 (the authority) and KV (token hash → tenant, the fast path).
 * Order matters for revocation: a new token is written to KV before D1 points at it, and
 * the old KV entry is removed after D1 stopped accepting it, so no step leaves a valid
 * token unusable or a void one accepted.
 */
import type { Database } from "../storage/database";
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

export interface TenantServices {
  db: Database;
  kv: KVNamespace;
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
export async function createTenant(
  { db, kv }: TenantServices,
  settings: TenantSettings,
  options: { setupLink?: boolean } = {},
): Promise<IssuedTenantToken & { setupLink?: IssuedSetupLink }> {
  const now = new Date();
  const tenantId = crypto.randomUUID();
  const token = await issueToken();
  const link = options.setupLink ? await newSetupLink(now) : undefined;
  await rememberToken(kv, token.hash, tenantId);
  const tenant = await insertTenant(db, tenantId, settings, token, now.toISOString(), link?.stored);
  return link ? { tenant, token: token.secret, setupLink: link.issued } : { tenant, token: token.secret };
}

/**
 * Issues a new token and returns it; the previous one is void as soon as this returns. The KV
 * entry removed is the one D1's write replaced, not the one read before: with concurrent
 * rotations each removes its own predecessor, so KV keeps only the last token. Undefined when
 * the tenant was deleted meanwhile.
 */
export async function rotateToken({ db, kv }: TenantServices, tenant: TenantRow): Promise<string | undefined> {
  const now = new Date().toISOString();
  const token = await issueToken();
  await rememberToken(kv, token.hash, tenant.id);
  const written = await replaceToken(db, tenant.id, token, now);
  if (!written) {
    await forgetToken(kv, token.hash);
    return undefined;
  }
  if (written.replaced) await forgetToken(kv, written.replaced);
  return token.secret;
}

export async function removeTenant({ db, kv }: TenantServices, tenantId: string): Promise<boolean> {
  const { deleted, tokenHash } = await deleteTenantAndData(db, tenantId);
  if (tokenHash) await forgetToken(kv, tokenHash);
  return deleted;
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

export async function inspectSetupLink(db: Database, code: string): Promise<SetupLinkState | undefined> {
  return findSetupLink(db, await sha256Hex(code), new Date().toISOString());
}

/** Applies the setup form and issues the token, once per link. Undefined when the code is unusable. */
export async function completeSetup(
  { db, kv }: TenantServices,
  code: string,
  settings: Partial<TenantSettings>,
): Promise<IssuedTenantToken | undefined> {
  const state = await inspectSetupLink(db, code);
  if (!state?.usable) return undefined;
  const token = await issueToken();
  await rememberToken(kv, token.hash, state.tenant.id);
  const redeemed = await redeemSetupLink(db, await sha256Hex(code), settings, token, new Date().toISOString(), state.tenant.id);
  if (!redeemed) {
    await forgetToken(kv, token.hash);
    return undefined;
  }
  if (redeemed.previousTokenHash) await forgetToken(kv, redeemed.previousTokenHash);
  return { tenant: redeemed.tenant, token: token.secret };
}
