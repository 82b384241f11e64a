/**
 * The per-tenant provisioning log: one row per authenticated SCIM write and per failed
 * request. A successful write's row rides in the write's own D1 batch (TenantDb.log, handed
 * to the Durable Object for group writes), so a write costs one round trip, not two; its
 * duration is then the time until that batch was built. Every other row (failures, writes
 * that changed nothing, POST /.search) is written after the response (waitUntil), with the
 * full duration. Successful reads are not logged: IdP
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
  const tenantDb = c.get("tenantDb");
  const fields = {
    at: new Date(started).toISOString(),
    method: c.req.method,
    path: readablePath(new URL(c.req.url)).slice(0, MAX_PATH_CHARS),
    userAgent: c.req.header("User-Agent")?.slice(0, 200) ?? null,
  };
  tenantDb.log = { ...fields, startedMs: started };
  await next();
  if (c.req.method === "GET" && c.res.status < 400) return;
  // The write's batch already holds this row. A different status (the response failed after
  // the write committed) is logged too, so the log never hides what the IdP was answered.
  if (tenantDb.loggedStatus === c.res.status) return;
  const error = c.error instanceof ScimError ? c.error : undefined;
  c.executionCtx.waitUntil(
    appendRequestLog(tenantDb.db, {
      tenantId: tenantDb.tenantId,
      ...fields,
      status: c.res.status,
      scimType: error?.scimType ?? null,
      detail: error?.message ?? null,
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
