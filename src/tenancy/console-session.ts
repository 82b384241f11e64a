/**
 * The tenant admin console's access rules (issue 14):
 * - the operator issues a single-use sign-in link, valid CONSOLE_LINK_TTL_MS;
 * - signing in opens a session for that link's tenant only: a random id in a cookie, stored
 *   as its SHA-256, valid CONSOLE_SESSION_TTL_MS from its last use (sliding);
 * - every state-changing form carries a CSRF token bound to the session (a hash of its
 *   secret id, so it needs no storage and is useless without the cookie).
 */
import {
  type ConsoleLinkState,
  type ConsoleSessionRow,
  deleteConsoleSession,
  extendConsoleSession,
  findConsoleLink,
  findConsoleSession,
  insertConsoleLink,
  redeemConsoleLink,
  revokeConsoleAccess,
} from "../storage/console-sessions";
import type { Database } from "../storage/database";
import { issueSetupCode, secretsEqual, sha256Hex } from "./tokens";

export const CONSOLE_LINK_TTL_MS = 15 * 60_000;
export const CONSOLE_SESSION_TTL_MS = 8 * 3_600_000;
/** A session's expiry is pushed forward at most once a minute: one D1 write per minute of use, not per page. */
const SLIDE_EVERY_MS = 60_000;

export interface IssuedConsoleLink {
  code: string;
  expiresAt: string;
}

export async function createConsoleLink(db: Database, tenantId: string, now = Date.now()): Promise<IssuedConsoleLink> {
  const code = await issueSetupCode();
  const expiresAt = new Date(now + CONSOLE_LINK_TTL_MS).toISOString();
  await insertConsoleLink(db, tenantId, { codeHash: code.hash, expiresAt }, new Date(now).toISOString());
  return { code: code.secret, expiresAt };
}

export async function inspectConsoleLink(db: Database, code: string): Promise<ConsoleLinkState | undefined> {
  return findConsoleLink(db, await sha256Hex(code), new Date().toISOString());
}

export interface OpenedSession {
  /** The cookie's value: shown to the browser once, stored only as its hash. */
  sessionId: string;
  tenantId: string;
  expiresAt: string;
}

/** Redeems a sign-in link; undefined when it is unknown, used or expired. */
export async function signIn(db: Database, code: string, now = Date.now()): Promise<OpenedSession | undefined> {
  const session = await issueSetupCode();
  const expiresAt = new Date(now + CONSOLE_SESSION_TTL_MS).toISOString();
  const tenantId = await redeemConsoleLink(db, await sha256Hex(code), { idHash: session.hash, expiresAt }, new Date(now).toISOString());
  return tenantId ? { sessionId: session.secret, tenantId, expiresAt } : undefined;
}

export interface ActiveSession extends ConsoleSessionRow {
  /** The token every form of this session must carry. */
  csrfToken: string;
  /** A write that slides the expiry, when it is due (run it after the response). */
  slide: (() => Promise<void>) | undefined;
}

export async function resumeSession(db: Database, sessionId: string, now = Date.now()): Promise<ActiveSession | undefined> {
  const idHash = await sha256Hex(sessionId);
  const row = await findConsoleSession(db, idHash, new Date(now).toISOString());
  if (!row) return undefined;
  const due = now - Date.parse(row.lastSeenAt) >= SLIDE_EVERY_MS;
  const slide = due
    ? () => extendConsoleSession(db, idHash, new Date(now).toISOString(), new Date(now + CONSOLE_SESSION_TTL_MS).toISOString())
    : undefined;
  return { ...row, csrfToken: await csrfTokenOf(sessionId), slide };
}

/** Derived from the session's secret id: another site can neither read nor compute it. */
async function csrfTokenOf(sessionId: string): Promise<string> {
  return sha256Hex(`console-csrf:${sessionId}`);
}

export async function csrfTokenMatches(session: ActiveSession, submitted: string | undefined): Promise<boolean> {
  return submitted !== undefined && (await secretsEqual(session.csrfToken, submitted));
}

export async function signOut(db: Database, session: ActiveSession): Promise<void> {
  await deleteConsoleSession(db, session.idHash);
}

export async function revokeConsoleSessions(db: Database, tenantId: string): Promise<void> {
  await revokeConsoleAccess(db, tenantId);
}
