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

/** The public origin for URLs we hand out: PUBLIC_URL when set, else the request's own. */
export function publicOrigin(env: Bindings, requestUrl: string): string {
  return (env.PUBLIC_URL || new URL(requestUrl).origin).replace(/\/+$/, "");
}

export function scimBaseUrl(origin: string, tenantId: string): string {
  return `${origin}/scim/v2/${tenantId}`;
}
