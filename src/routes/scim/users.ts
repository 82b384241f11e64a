/** /Users (RFC 7644 §3.3–§3.6): create, read, list/search, replace, patch, delete. */
import type { TenantCoordinator } from "../../durable/tenant-coordinator";
import { unwrapOutcome } from "../../durable/tenant-coordinator";
import { PatchRaced, patchUserOnce } from "../../durable/user-patch";
import { type ScimError, scimErrors, unwrap } from "../../scim/errors";
import { parsePatchRequest } from "../../scim/patch";
import { etagOf, locationOf, renderResource } from "../../scim/resource";
import { type JsonValue, parseResource, type ResourceTypeName } from "../../scim/schema";
import { checkDocumentSize } from "../../storage/document-size";
import { requireScanBudget } from "../../storage/scan-budget";
import { encodeCursor } from "../../storage/listing";
import { explainStaleWrite } from "../../storage/tenant-db";
import {
  countUsersQuery,
  createUser,
  deleteUser,
  replaceUser,
  selectUserQuery,
  selectUsersPageQuery,
  type StoredUser,
  toStoredUser,
  userCountQuery,
  userExists,
} from "../../storage/users";
import type { ResourcePage } from "./list-body";
import { type ListQuery, NO_PROJECTION, type ProjectionQuery } from "./list-query";
import { planFromQuery, projectionOf, wantsDerived } from "./listing";
import { notModified } from "./preconditions";
import type { Ctx, ResourceOperations } from "./resource-operations";
import { scimJson } from "./respond";
import { renderedUserPage } from "./user-list-body";
import { tenantBaseUrl } from "./urls";

const RESOURCE: ResourceTypeName = "User";

/** The tenant's Durable Object, for user PATCHes that lost a race (durable/user-patch.ts). */
function coordinator(c: Ctx): Pick<TenantCoordinator, "patchUser"> {
  // The typed RPC stub recurses too deep on the JSON document type (TS2589); see routes/scim/groups.ts.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  return c.env.TENANT_COORDINATOR.getByName(c.var.tenantDb.tenantId) as unknown as Pick<TenantCoordinator, "patchUser">;
}

function userNotFound(): ScimError {
  return scimErrors.notFound("No user with this id in this tenant.");
}

function render(c: Ctx, user: StoredUser, query: ProjectionQuery) {
  const baseUrl = tenantBaseUrl(c);
  const derived: Record<string, JsonValue> = {};
  if (user.groups) derived.groups = user.groups.map((g) => ({ ...g, $ref: locationOf(baseUrl, "Group", g.value) }));
  return renderResource(RESOURCE, user, baseUrl, derived, projectionOf(query));
}

/** One user as the response body, projected as the request asked. */
function single(c: Ctx, user: StoredUser, status: number, projection: ProjectionQuery = NO_PROJECTION) {
  const headers: Record<string, string> = { ETag: etagOf(user.version) };
  if (status === 201) headers.Location = locationOf(tenantBaseUrl(c), RESOURCE, user.id);
  return scimJson(render(c, user, projection), status, headers);
}

async function readUser(c: Ctx, id: string, includeGroups = true): Promise<StoredUser> {
  const tdb = c.var.tenantDb;
  const { results } = await tdb.read([selectUserQuery(tdb.db, tdb.tenantId, id, includeGroups)] as const);
  const row = results[0][0];
  if (!row) throw userNotFound();
  return toStoredUser(row);
}

async function list(c: Ctx, query: ListQuery): Promise<ResourcePage> {
  const tdb = c.var.tenantDb;
  const plan = planFromQuery(RESOURCE, tdb.tenantId, query);
  const total = plan.filter ? countUsersQuery(tdb.db, tdb.tenantId, plan.filter, plan.scan) : userCountQuery(tdb.db, tdb.tenantId);
  const includeGroups = wantsDerived("groups", query);
  const page = selectUsersPageQuery(tdb.db, tdb.tenantId, { ...plan, includeGroups });
  if (query.count === 0 && query.cursor === undefined) {
    const { results: [totals] } = await tdb.read([total] as const);
    requireScanBudget(RESOURCE, plan.scan, totals[0]);
    return { length: 0, inline: [], totalResults: totals[0]?.total ?? 0 };
  }
  const { results: [rows, totals] } = await tdb.read([page, total] as const);
  requireScanBudget(RESOURCE, plan.scan, totals[0]);
  const pageRows = query.cursor !== undefined ? rows.slice(0, query.count) : rows;
  const next = query.cursor !== undefined && rows.length > query.count ? pageRows.at(-1) : undefined;
  // Large documents are not inline in the page (D1's 50 MB result limit): see user-list-body.ts.
  return {
    ...renderedUserPage(c, pageRows, (row) => render(c, toStoredUser(row), query)),
    totalResults: totals[0]?.total ?? 0,
    ...(next ? { nextCursor: encodeCursor(next.seq) } : {}),
  };
}

/** Parses and size-checks a POST/PUT body, as every way of writing a user does. */
function userDocument(body: unknown) {
  const doc = unwrap(parseResource(RESOURCE, body));
  checkDocumentSize(doc);
  return doc;
}

export const userOperations: ResourceOperations = {
  list,
  async read(c, id, projection) {
    const user = await readUser(c, id, wantsDerived("groups", projection));
    if (notModified(c, user.version)) return c.body(null, 304, { ETag: etagOf(user.version) });
    return single(c, user, 200, projection);
  },
  async create(c, { body, projection }) {
    const doc = userDocument(body);
    c.var.tenantDb.logSuccessAs(201);
    const { user } = await createUser(c.var.tenantDb, doc);
    return single(c, user, 201, projection);
  },
  async replace(c, id, { body, ifMatch, projection }) {
    const doc = userDocument(body);
    c.var.tenantDb.logSuccessAs(200);
    try {
      const user = await replaceUser(c.var.tenantDb, { id, doc, expectedVersion: ifMatch, eventType: "user.replaced" }, true);
      return single(c, user, 200, projection);
    } catch (error) {
      throw await explainPrecondition(c, error, id, ifMatch);
    }
  },
  async patch(c, id, { body, ifMatch, projection }) {
    const operations = unwrap(parsePatchRequest(body));
    // The write (of the attempt that commits) carries the log row; a PATCH that changes nothing is logged after the response.
    c.var.tenantDb.logSuccessAs(200);
    try {
      return single(c, await patchUserOnce(c.var.tenantDb, id, operations, ifMatch), 200, projection);
    } catch (error) {
      if (!(error instanceof PatchRaced)) throw error;
    }
    // Another write got in between: queue behind the user's other PATCHes (durable/user-patch.ts).
    const outcome = await coordinator(c).patchUser(c.var.tenantDb.auth, id, operations);
    // The Durable Object's committed batch carried this request's log row.
    if (outcome.ok && outcome.loggedStatus !== undefined) c.var.tenantDb.loggedStatus = outcome.loggedStatus;
    return single(c, unwrapOutcome(outcome), 200, projection);
  },
  async remove(c, id, { ifMatch }) {
    c.var.tenantDb.logSuccessAs(204);
    try {
      await deleteUser(c.var.tenantDb, id, ifMatch);
    } catch (error) {
      throw await explainPrecondition(c, error, id, ifMatch);
    }
    return c.body(null, 204);
  },
};

/** A write whose precondition failed: 404, 412 or 409 (see explainStaleWrite). */
function explainPrecondition(c: Ctx, error: unknown, id: string, ifMatch: number | undefined): Promise<unknown> {
  return explainStaleWrite(error, "user", ifMatch, () => userExists(c.var.tenantDb, id));
}
