/**
 * The per-tenant provisioning log: one row per authenticated SCIM write and per failed
 * request, written after the response (waitUntil). Successful reads are not logged: IdP
 * cycles are mostly lookups, and a row each would double D1's load for no troubleshooting
 * value (the token's "last used" still shows the IdP is calling). Query strings are kept
 * (filters show what the IdP matched on); headers and bodies are not, so no token or
 * password can land here.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { ScimError } from "../../scim/errors";
import { appendRequestLog } from "../../storage/activity";

const MAX_PATH_CHARS = 500;

export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  if (c.req.method === "GET" && c.res.status < 400) return;
  const tenantDb = c.get("tenantDb");
  const error = c.error instanceof ScimError ? c.error : undefined;
  const url = new URL(c.req.url);
  c.executionCtx.waitUntil(
    appendRequestLog(tenantDb.db, {
      tenantId: tenantDb.tenantId,
      at: new Date(started).toISOString(),
      method: c.req.method,
      path: readablePath(url).slice(0, MAX_PATH_CHARS),
      status: c.res.status,
      scimType: error?.scimType ?? null,
      detail: error?.message ?? null,
      userAgent: c.req.header("User-Agent")?.slice(0, 200) ?? null,
      durationMs: Date.now() - started,
    }).catch((e: unknown) => console.error("request log write failed", e)),
  );
});

/** The path and query as the IdP meant them; a malformed escape (`%ZZ`) stays as sent, never a throw. */
function readablePath(url: URL): string {
  const raw = url.pathname + url.search;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
