/**
 * Linking a SCIM create to an account or group the host app had before SCIM (app_accounts,
 * app_groups, registered through the operator API). Linking hands the IdP's user the app
 * account's data and rights, so it is narrow on purpose:
 * - a user links by its userName, or by its primary email (the `work` email when no email is
 *   primary); never by a secondary or a home/other email, which users can often edit
 *   themselves in the IdP;
 * - a group links by its displayName;
 * - both sides are compared in `linkingKey` form, which folds ASCII case and nothing else;
 * - only when exactly one unlinked account (group) matches. Two candidates (the userName
 *   names one account, the primary email another, or two accounts share the email) link
 *   neither: the create goes ahead unlinked (the event's `linkedAccount` is null), because no
 *   uniqueness rule is at stake (app accounts are not SCIM resources, and the operator API
 *   lets two accounts share an email), while a 409 would block that user's provisioning until
 *   the operator cleaned up accounts. With linking off, any candidate answers 409 (as before).
 */
import { type SQL, sql } from "drizzle-orm";
import { hasAsciiLookAlike } from "../scim/identifiers";
import { isPlainObject, type ScimDocument } from "../scim/schema";
import { appAccounts, appGroups } from "./schema";

const ASCII_ONLY = /^[\u0000-\u007f]*$/;

/**
 * The one canonical form linking compares, on both sides: the keys stored by the operator's
 * PUT and the values of a SCIM create. NFC, so a decomposed `é` (NFD) is the precomposed one;
 * then, for a pure-ASCII value, A–Z lowered to a–z (`Pat@Example.com` = `pat@example.com`). A
 * value with any non-ASCII character is kept exactly (NFC): no Unicode case mapping, which
 * folds look-alikes (`toLowerCase()` turns the Kelvin sign into `k` and `İ` into `i̇`), and
 * no compatibility folding (NFKC would turn fullwidth `ｋ` into `k`). `null` (never links)
 * for a value with a code point NFC itself turns into an ASCII look-alike (the Kelvin sign).
 */
export function linkingKey(value: string): string | null {
  if (hasAsciiLookAlike(value)) return null;
  const nfc = value.normalize("NFC");
  return ASCII_ONLY.test(nfc) ? nfc.replace(/[A-Z]/g, (c) => c.toLowerCase()) : nfc;
}

function emailsOf(doc: ScimDocument): { value: string; type: unknown; primary: unknown }[] {
  const emails = Array.isArray(doc.emails) ? doc.emails : [];
  return emails.flatMap((e) => (isPlainObject(e) && typeof e.value === "string" ? [{ value: e.value, type: e.type, primary: e.primary }] : []));
}

/**
 * The email a user links by: the one marked primary (validation allows at most one, RFC 7643
 * §2.4), else the only `work` email; none when there are several work emails and no primary.
 */
export function primaryEmail(doc: ScimDocument): string | undefined {
  const emails = emailsOf(doc);
  const primary = emails.find((e) => e.primary === true);
  if (primary) return primary.value;
  const work = emails.filter((e) => typeof e.type === "string" && e.type.toLowerCase() === "work");
  return work.length === 1 ? work[0]?.value : undefined;
}

export interface UserLinkKeys {
  userNameKey: string | null;
  emailKey: string | null;
}

export function userLinkKeys(doc: ScimDocument): UserLinkKeys {
  const email = primaryEmail(doc);
  return { userNameKey: linkingKey(doc.userName as string), emailKey: email === undefined ? null : linkingKey(email) };
}

/**
 * Unlinked accounts of the tenant that the user's userName or primary email names. Written as
 * a UNION of two index lookups: with `tenant_id = ? AND (a = ? OR b = ?)` SQLite walks the
 * tenant's unlinked accounts through app_accounts_user instead (`+user_id` keeps it off that index).
 */
export function accountCandidates(tenantId: string, keys: UserLinkKeys): SQL {
  const lookups: SQL[] = [];
  const ofTenant = sql`${appAccounts.tenantId} = ${tenantId}`;
  if (keys.userNameKey !== null) lookups.push(sql`SELECT rowid FROM ${appAccounts} WHERE ${ofTenant} AND ${appAccounts.userNameKey} = ${keys.userNameKey}`);
  if (keys.emailKey !== null) lookups.push(sql`SELECT rowid FROM ${appAccounts} WHERE ${ofTenant} AND ${appAccounts.emailKey} = ${keys.emailKey}`);
  if (lookups.length === 0) return sql`0`;
  return sql`rowid IN (${sql.join(lookups, sql` UNION `)}) AND +${appAccounts.userId} IS NULL`;
}

/** Unlinked app groups of the tenant with this displayName. */
export function appGroupCandidates(tenantId: string, displayName: string): SQL {
  const key = linkingKey(displayName);
  if (key === null) return sql`0`;
  return sql`${appGroups.tenantId} = ${tenantId} AND ${appGroups.displayNameKey} = ${key} AND +${appGroups.groupId} IS NULL`;
}

/**
 * The WHERE of the linking UPDATE: the row of the only candidate, or no row at all when
 * there are none or several. Evaluated inside the create's batch, so no other write gets in
 * between. `table` is app_accounts or app_groups (both rowid tables).
 */
export function onlyCandidate(table: typeof appAccounts | typeof appGroups, candidates: SQL): SQL {
  return sql`rowid = (SELECT rowid FROM ${table} WHERE ${candidates} LIMIT 1) AND (SELECT count(*) FROM (SELECT 1 FROM ${table} WHERE ${candidates} LIMIT 2)) = 1`;
}

/** True when any candidate exists: with linking off, the create is answered 409. */
export function anyCandidate(table: typeof appAccounts | typeof appGroups, candidates: SQL): SQL {
  return sql`EXISTS (SELECT 1 FROM ${table} WHERE ${candidates})`;
}
