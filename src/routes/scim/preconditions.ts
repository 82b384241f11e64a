/** ETag preconditions (RFC 7644 §3.14, RFC 9110 §13): If-Match → 412, If-None-Match → 304. */
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { versionsIn } from "../../scim/resource";

/** The version If-Match requires; undefined when absent or `*` (any existing version). */
export function ifMatchVersion(c: Context<AppEnv>): number | undefined {
  const header = c.req.header("If-Match");
  if (header === undefined) return undefined;
  const versions = versionsIn(header);
  if (versions === "*") return undefined;
  // An ETag we never issued can match nothing.
  return versions[0] ?? -1;
}

export function notModified(c: Context<AppEnv>, version: number): boolean {
  const header = c.req.header("If-None-Match");
  if (header === undefined) return false;
  const versions = versionsIn(header);
  return versions === "*" || versions.includes(version);
}
