import { ScimError } from "./scim/errors";
import type { TenantDb } from "./storage/tenant-db";

declare global {
  // workers-types declares bindings and globals on this namespace; merging into it is the documented way.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Cloudflare {
    interface Env {
      /** Secret (`wrangler secret put ADMIN_TOKEN`; `.dev.vars` locally): the operator API's bearer token. */
      ADMIN_TOKEN: string;
    }
    /** Types `exports` from cloudflare:workers (used by the tests' loopback fetch). */
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "TenantCoordinator";
    }
  }
}

export type Bindings = Cloudflare.Env;

export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    /** Set by the SCIM auth middleware: this tenant's data, behind its token check. */
    tenantDb: TenantDb;
  };
}

/**
 * The hostnames `wrangler dev`, the browser test and the benchmark serve on. A request can only
 * carry one of them when it comes from this very machine, so its Host header is no one else's.
 */
const LOOPBACK_HOSTNAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The public origin for URLs we hand out (SCIM base URLs, setup links, `Location`, `meta.location`).
 *
 * PUBLIC_URL when set. When it is empty, the request's own origin, but only for a loopback
 * hostname: anywhere else the origin comes from the client's Host header, and a URL handed out
 * on its word (`Host: evil.example` → a setup link on evil.example) would send the tenant's
 * admin, or its IdP, elsewhere. A var saying "this is local development" would be no more
 * trustworthy than the header, so the hostname itself decides. Otherwise: 503, a deployment
 * that is not configured, before anything is written.
 */
export function publicOrigin(env: Bindings, requestUrl: string): string {
  if (env.PUBLIC_URL) {
    if (!URL.canParse(env.PUBLIC_URL) || !/^https?:$/.test(new URL(env.PUBLIC_URL).protocol)) {
      throw new ScimError(503, "PUBLIC_URL is not an http(s) URL: set it in wrangler.toml [vars] to the Worker's public origin.");
    }
    return env.PUBLIC_URL.replace(/\/+$/, "");
  }
  const url = new URL(requestUrl);
  if (LOOPBACK_HOSTNAMES.has(url.hostname)) return url.origin;
  throw new ScimError(
    503,
    "PUBLIC_URL is not configured: set it in wrangler.toml [vars] to the Worker's public origin " +
      "(for example https://scim.example.com). Only requests to 127.0.0.1, localhost or [::1] may do without it.",
  );
}

export function scimBaseUrl(origin: string, tenantId: string): string {
  return `${origin}/scim/v2/${tenantId}`;
}
