/** Renders a stored resource as SCIM JSON: id, meta (RFC 7643 §3.1), derived attributes, projection. */
import { scimErrors } from "./errors";
import { type JsonObject, type JsonValue, projectResource, type ProjectionOptions, type ResourceTypeName, type ScimDocument } from "./schema";

export interface StoredResource {
  id: string;
  doc: ScimDocument;
  version: number;
  createdAt: string;
  lastModified: string;
}

const ENDPOINTS: Record<ResourceTypeName, string> = { User: "Users", Group: "Groups" };

/** Weak ETag from the row version (RFC 7644 §3.14); the version bumps on every real change. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** Parses `If-Match` / `If-None-Match`: `*`, or the versions of our weak/strong ETags. */
export function versionsIn(header: string): "*" | number[] {
  if (header.trim() === "*") return "*";
  return [...header.matchAll(/(?:W\/)?"(\d+)"/g)].map((m) => Number(m[1]));
}

/** If-Match named a version (RFC 7644 §3.14): the resource must still be at it, else 412. */
export function requireVersion(expected: number | undefined, actual: number): void {
  if (expected !== undefined && expected !== actual) {
    throw scimErrors.preconditionFailed(`If-Match does not match the current version W/"${actual}".`);
  }
}

export function locationOf(baseUrl: string, resourceType: ResourceTypeName, id: string): string {
  return `${baseUrl}/${ENDPOINTS[resourceType]}/${id}`;
}

/**
 * The full resource: `derived` holds attributes that live outside the document (a user's
 * `groups`, a group's `members`). Projection then applies `attributes`/`excludedAttributes`.
 */
export function renderResource(
  resourceType: ResourceTypeName,
  resource: StoredResource,
  baseUrl: string,
  derived: Record<string, JsonValue> = {},
  projection: ProjectionOptions = {},
): JsonObject {
  const { schemas, ...attributes } = resource.doc;
  const full: JsonObject = {
    schemas,
    id: resource.id,
    ...attributes,
    ...derived,
    meta: {
      resourceType,
      created: resource.createdAt,
      lastModified: resource.lastModified,
      location: locationOf(baseUrl, resourceType, resource.id),
      version: etagOf(resource.version),
    },
  };
  return projectResource(resourceType, full, projection);
}
