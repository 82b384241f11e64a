/**
 * The console's gatekeeping: the session cookie, the tenant in the URL, and the form checks.
 * - The cookie is `__Host-scim_console` (Secure, Path=/, no Domain: only this origin) when the
 *   public origin is https; on plain-http local development (`npm run dev`, the browser test)
 *   browsers refuse `__Host-` and Secure cookies alike, so it is `scim_console` without Secure.
 *   Always HttpOnly and SameSite=Strict, Max-Age 8 hours, re-sent when the session slides.
 * - A session only ever sees its own tenant: a URL naming another tenant answers the same 404
 *   as a tenant that does not exist, so it reveals nothing.
 * - Every POST must carry `Origin` equal to the public origin and the session's CSRF token.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { type AppEnv, publicOrigin } from "../../env";
import { directoryDb } from "../../storage/shards";
import { type ActiveSession, CONSOLE_SESSION_TTL_MS, csrfTokenMatches, resumeSession } from "../../tenancy/console-session";
import { renderMessage } from "../page-layout";

export interface ConsoleEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { session: ActiveSession };
}

type Bound = { Bindings: AppEnv["Bindings"] };

export function sessionCookieName<E extends Bound>(c: Context<E>): string {
  return isSecureOrigin(c) ? "__Host-scim_console" : "scim_console";
}

function isSecureOrigin<E extends Bound>(c: Context<E>): boolean {
  return publicOrigin(c.env, c.req.url).startsWith("https:");
}

export function sessionCookie<E extends Bound>(c: Context<E>, sessionId: string, maxAgeSeconds: number): string {
  const secure = isSecureOrigin(c) ? "; Secure" : "";
  return `${sessionCookieName(c)}=${sessionId}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

export function signedOutPage<E extends Bound>(c: Context<E>) {
  return renderMessage(c, 401, "Signed out", "Your console session has ended or was revoked. Ask the application's administrator for a new console link.");
}

export function notFoundPage<E extends Bound>(c: Context<E>) {
  return renderMessage(c, 404, "Not found", "This page does not exist, or it belongs to another organisation.");
}

export function formRefusedPage<E extends Bound>(c: Context<E>) {
  return renderMessage(c, 403, "Form not accepted", "This form was not submitted from its console page, so nothing was changed. Reload the page and submit it again.");
}

/** The session of the cookie, for the tenant in the URL; anything else is refused before any tenant data is read. */
export const requireSession = createMiddleware<ConsoleEnv>(async (c, next) => {
  const cookie = getCookie(c, sessionCookieName(c));
  const db = directoryDb(c.env);
  const session = cookie ? await resumeSession(db, cookie) : undefined;
  if (!session) return signedOutPage(c);
  if (session.tenant.id !== c.req.param("tenantId")) return notFoundPage(c);
  c.set("session", session);
  if (session.slide) {
    c.executionCtx.waitUntil(session.slide().catch((e: unknown) => console.error("console session slide failed", e)));
    await next();
    c.res.headers.append("Set-Cookie", sessionCookie(c, cookie ?? "", CONSOLE_SESSION_TTL_MS / 1000));
    return;
  }
  await next();
});

/** A POST from another origin, or without this session's CSRF token, changes nothing. */
export const checkedForm = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (c.req.header("Origin") !== new URL(publicOrigin(c.env, c.req.url)).origin) return formRefusedPage(c);
  const body: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
  const csrf = typeof body.csrf === "string" ? body.csrf : undefined;
  if (!(await csrfTokenMatches(c.get("session"), csrf))) return formRefusedPage(c);
  await next();
});

/** Form text fields, an unticked checkbox being absent (HTML form submission). */
export async function formFields(c: Context<ConsoleEnv>): Promise<{ text: (name: string) => string; ticked: (name: string) => boolean }> {
  const body: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
  return {
    text: (name) => (typeof body[name] === "string" ? body[name] : ""),
    ticked: (name) => body[name] !== undefined,
  };
}
