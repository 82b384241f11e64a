/**
 * Requests as the identity providers of /work/shared/IDP-BEHAVIOUR.md send them: the same
 * headers on every request, a Content-Type only when there is a body.
 */
import { call, scim, type TestTenant } from "./http";

export interface IdpRequestInit {
  method?: string;
  json?: unknown;
}

/** IDP-BEHAVIOUR.md, Okta: "User-Agent `Okta SCIM Client 1.0.0`". */
export const OKTA_HEADERS = { "User-Agent": "Okta SCIM Client 1.0.0", Accept: "application/scim+json" } as const;
export const OKTA_CONTENT_TYPE = "application/scim+json; charset=utf-8";

/** IDP-BEHAVIOUR.md, Entra, Create: "`Content-Type: application/scim+json; charset=utf-8`". */
export const ENTRA_CONTENT_TYPE = "application/scim+json; charset=utf-8";

/**
 * A request as Okta sends it (IDP-BEHAVIOUR.md, "## Okta"): its User-Agent and Accept, the
 * tenant's bearer token, and its Content-Type on bodies.
 */
export function okta(tenant: TestTenant, path: string, init: IdpRequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { ...OKTA_HEADERS };
  if (init.json !== undefined) headers["Content-Type"] = OKTA_CONTENT_TYPE;
  return scim(tenant, path, {
    method: init.method ?? "GET",
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}

/**
 * A request as Entra sends it (IDP-BEHAVIOUR.md, "## Microsoft Entra ID"): the bearer token, a
 * body with its Content-Type, never an Accept header. `path` may hold raw spaces and quotes; the
 * URL parser percent-encodes them as a client would.
 */
export function entra(tenant: TestTenant, path: string, init: IdpRequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${tenant.token}` };
  if (init.json !== undefined) headers["Content-Type"] = ENTRA_CONTENT_TYPE;
  return call(`${tenant.baseUrl}${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}
