/** /Users (RFC 7644 §3.3–§3.6): create, read, list/search, replace, patch, delete. */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../../env";
import { type ScimError, scimErrors, unwrap } from "../../scim/errors";
import { listResponse } from "../../scim/list-response";
import { applyPatch, parsePatchRequest } from "../../scim/patch";
import { etagOf, locationOf, renderResource, requireVersion } from "../../scim/resource";
import { type JsonValue, parseResource, type ResourceTypeName } from "../../scim/schema";
import { checkDocumentSize } from "../../storage/document-size";
import { encodeCursor } from "../../storage/listing";
import { explainStaleWrite, PreconditionFailed } from "../../storage/tenant-db";
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
import { readJsonBody } from "../body";
import { parseWith, validQuery } from "../validation";
import { type ListQuery, listQuerySchema, type ProjectionQuery, projectionQuerySchema } from "./list-query";
import { methodNotAllowed, planFromQuery, projectionOf, searchBody, wantsDerived } from "./listing";
import { ifMatchVersion, notModified } from "./preconditions";
import { scimJson } from "./respond";
import { userListResponse } from "./user-list-body";
import { tenantBaseUrl } from "./urls";

const RESOURCE: ResourceTypeName = "User";
/** A PATCH re-reads and re-applies when another write got in between (optimistic concurrency). */
const PATCH_ATTEMPTS = 3;

type Ctx = Context<AppEnv>;

function userNotFound(): ScimError {
  return scimErrors.notFound("No user with this id in this tenant.");
}

function render(c: Ctx, user: StoredUser, query: ProjectionQuery) {
  const baseUrl = tenantBaseUrl(c);
  const derived: Record<string, JsonValue> = {};
  if (user.groups) derived.groups = user.groups.map((g) => ({ ...g, $ref: locationOf(baseUrl, "Group", g.value) }));
  return renderResource(RESOURCE, user, baseUrl, derived, projectionOf(query));
}

/** One user as the response body; `attributes`/`excludedAttributes` come from the request's query. */
function single(c: Ctx, user: StoredUser, status = 200) {
  const headers: Record<string, string> = { ETag: etagOf(user.version) };
  if (status === 201) headers.Location = locationOf(tenantBaseUrl(c), RESOURCE, user.id);
  return scimJson(render(c, user, parseWith(projectionQuerySchema, c.req.query())), status, headers);
}

async function readUser(c: Ctx, id: string, includeGroups = true): Promise<StoredUser> {
  const tdb = c.var.tenantDb;
  const { results } = await tdb.read([selectUserQuery(tdb.db, tdb.tenantId, id, includeGroups)] as const);
  const row = results[0][0];
  if (!row) throw userNotFound();
  return toStoredUser(row);
}

async function list(c: Ctx, query: ListQuery): Promise<Response> {
  const tdb = c.var.tenantDb;
  const plan = planFromQuery(RESOURCE, tdb.tenantId, query);
  const total = plan.filter ? countUsersQuery(tdb.db, tdb.tenantId, plan.filter) : userCountQuery(tdb.db, tdb.tenantId);
  const includeGroups = wantsDerived("groups", query);
  const page = selectUsersPageQuery(tdb.db, tdb.tenantId, { ...plan, includeGroups });
  if (query.count === 0 && query.cursor === undefined) {
    const { results: [totals] } = await tdb.read([total] as const);
    return scimJson(listResponse([], totals[0]?.total ?? 0, query.startIndex));
  }
  const { results: [rows, totals] } = await tdb.read([page, total] as const);
  const pageRows = query.cursor !== undefined ? rows.slice(0, query.count) : rows;
  const next = query.cursor !== undefined && rows.length > query.count ? pageRows.at(-1) : undefined;
  // Large documents are not inline in the page (D1's 50 MB result limit): see user-list-body.ts.
  return userListResponse(
    c,
    {
      rows: pageRows,
      totalResults: totals[0]?.total ?? 0,
      startIndex: query.cursor !== undefined ? 1 : query.startIndex,
      ...(next ? { nextCursor: encodeCursor(next.seq) } : {}),
    },
    (row) => render(c, toStoredUser(row), query),
  );
}

export const userRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    c.var.tenantDb.scope = "users";
    await next();
  })
  .get("/", validQuery(listQuerySchema), (c) => list(c, c.req.valid("query")))
  .post("/.search", async (c) => list(c, parseWith(listQuerySchema, searchBody(await readJsonBody(c.req.raw)))))
  .post("/", async (c) => {
    const doc = unwrap(parseResource(RESOURCE, await readJsonBody(c.req.raw)));
    checkDocumentSize(doc);
    c.var.tenantDb.logSuccessAs(201);
    const { user } = await createUser(c.var.tenantDb, doc);
    return single(c, user, 201);
  })
  .get("/:id", async (c) => {
    const query = parseWith(projectionQuerySchema, c.req.query());
    const user = await readUser(c, c.req.param("id"), wantsDerived("groups", query));
    if (notModified(c, user.version)) return c.body(null, 304, { ETag: etagOf(user.version) });
    return single(c, user);
  })
  .put("/:id", async (c) => {
    const id = c.req.param("id");
    const doc = unwrap(parseResource(RESOURCE, await readJsonBody(c.req.raw)));
    checkDocumentSize(doc);
    const expected = ifMatchVersion(c);
    c.var.tenantDb.logSuccessAs(200);
    try {
      const user = await replaceUser(c.var.tenantDb, { id, doc, expectedVersion: expected, eventType: "user.replaced" }, true);
      return single(c, user);
    } catch (error) {
      throw await explainPrecondition(c, error, id, expected);
    }
  })
  .patch("/:id", async (c) => {
    const id = c.req.param("id");
    const operations = unwrap(parsePatchRequest(await readJsonBody(c.req.raw)));
    const ifMatch = ifMatchVersion(c);
    // The write (of the attempt that commits) carries the log row; a PATCH that changes nothing is logged after the response.
    c.var.tenantDb.logSuccessAs(200);
    for (let attempt = 1; ; attempt++) {
      const current = await readUser(c, id);
      requireVersion(ifMatch, current.version);
      const outcome = unwrap(applyPatch(RESOURCE, current.doc, operations, id));
      if (!outcome.changed) return single(c, current);
      // The patched document must still be a valid User (e.g. userName cannot be removed).
      const doc = unwrap(parseResource(RESOURCE, outcome.doc));
      // PATCH adds can grow a document past the body cap, one request at a time.
      checkDocumentSize(doc);
      try {
        const user = await replaceUser(c.var.tenantDb, { id, doc, expectedVersion: current.version, eventType: "user.patched" }, true);
        return single(c, user);
      } catch (error) {
        const raced = error instanceof PreconditionFailed && ifMatch === undefined && attempt < PATCH_ATTEMPTS;
        if (!raced) throw await explainPrecondition(c, error, id, ifMatch);
      }
    }
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    const expected = ifMatchVersion(c);
    c.var.tenantDb.logSuccessAs(204);
    try {
      await deleteUser(c.var.tenantDb, id, expected);
    } catch (error) {
      throw await explainPrecondition(c, error, id, expected);
    }
    return c.body(null, 204);
  })
  .all("/", methodNotAllowed("GET, POST"))
  .all("/:id", methodNotAllowed("GET, PUT, PATCH, DELETE"));

/** A write whose precondition failed: 404, 412 or 409 (see explainStaleWrite). */
function explainPrecondition(c: Ctx, error: unknown, id: string, ifMatch: number | undefined): Promise<unknown> {
  return explainStaleWrite(error, "user", ifMatch, () => userExists(c.var.tenantDb, id));
}
