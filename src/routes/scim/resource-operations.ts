/**
 * What the server can do with one resource type, as functions of the request context and
 * explicit inputs: the HTTP routes (resource-routes.ts), the root search (root-search.ts) and
 * /Bulk (bulk.ts) all call these, so an operation behaves the same however it arrives (same
 * validation, guards, events and provisioning-log row). A read-only type (Roles, later)
 * leaves the write operations out.
 */
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import type { ResourceTypeName } from "../../scim/schema";
import type { SyncScope } from "../../storage/tenant-db";
import type { ResourcePage } from "./list-body";
import type { ListQuery, ProjectionQuery } from "./list-query";

export type Ctx = Context<AppEnv>;

export interface WriteInput {
  /** The request body, parsed JSON (not yet validated). */
  body: unknown;
  /** The version If-Match (or a Bulk operation's `version`) requires. */
  ifMatch?: number;
  /**
   * `attributes`/`excludedAttributes` for the response. Undefined = none asked, which for
   * a group PATCH means 204 without a body (Entra's preference).
   */
  projection?: ProjectionQuery;
}

export interface ResourceOperations {
  /** A list page (RFC 7644 §3.4.2), for GET, .search and the root search. */
  list: (c: Ctx, query: ListQuery) => Promise<ResourcePage>;
  /** GET by id; answers 304 itself for a matching If-None-Match. */
  read: (c: Ctx, id: string, projection: ProjectionQuery) => Promise<Response>;
  create?: (c: Ctx, input: WriteInput) => Promise<Response>;
  replace?: (c: Ctx, id: string, input: WriteInput) => Promise<Response>;
  patch?: (c: Ctx, id: string, input: WriteInput) => Promise<Response>;
  remove?: (c: Ctx, id: string, input: Omit<WriteInput, "body">) => Promise<Response>;
}

export interface ResourceTypeEntry {
  name: ResourceTypeName;
  /** The endpoint under the tenant's base URL (RFC 7643 §6 `endpoint`), without the slash. */
  endpoint: string;
  /** The tenant setting that gates it (userSync / groupSync). */
  scope: SyncScope;
  operations: ResourceOperations;
}
