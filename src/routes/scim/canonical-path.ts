/**
 * Liberal SCIM paths: `/Users/`, `/users`, `/groups/{id}/` and `/serviceproviderconfig` route
 * as their canonical forms. RFC 7644 §3.2 names the endpoints, but SCIM test suites and
 * clients send them in other cases and with a trailing slash (issue 13), and a 404 for a
 * spelling helps nobody. Only the endpoint segment right after the tenant is case-folded:
 * ids, schema URNs and the tenant id keep their spelling.
 */
const ENDPOINTS = ["Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Bulk", "Me", ".search", "Roles", "Entitlements"];
const BY_LOWER = new Map(ENDPOINTS.map((name) => [name.toLowerCase(), name]));

const SCIM_PREFIX = /^(\/scim\/v2\/[^/]+)(\/.*)?$/;

/** The path the router sees for a request path (the raw, still percent-encoded path). */
export function canonicalScimPath(path: string): string {
  const match = SCIM_PREFIX.exec(path);
  if (!match) return path;
  const [, tenantRoot = "", rest = ""] = match;
  const segments = rest.split("/").slice(1);
  // Trailing slashes (and empty segments at the end) do not matter: `/Users/` is `/Users`.
  while (segments.length > 0 && segments.at(-1) === "") segments.pop();
  const first = segments[0];
  if (first !== undefined) segments[0] = BY_LOWER.get(first.toLowerCase()) ?? first;
  return segments.length > 0 ? `${tenantRoot}/${segments.join("/")}` : tenantRoot;
}
