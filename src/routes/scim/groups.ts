/**
 * /Groups (RFC 7644 §3.3–§3.6). Reads go to D1 directly; every write goes through the
 * tenant's Durable Object, which applies group writes one at a time.
 */
import { type Context, Hono } from "hono";
import type { TenantCoordinator } from "../../durable/tenant-coordinator";
import { unwrapOutcome } from "../../durable/tenant-coordinator";
import type { AppEnv } from "../../env";
import { scimErrors, unwrap } from "../../scim/errors";
import { listResponse } from "../../scim/list-response";
import { parsePatchRequest } from "../../scim/patch";
import { etagOf, locationOf, renderResource } from "../../scim/resource";
import { type JsonValue, parseResource, type ResourceTypeName, type ScimDocument } from "../../scim/schema";
import {
  countGroupsQuery,
  groupCountQuery,
  readGroup,
  selectGroupsPageQuery,
  type StoredGroup,
  toStoredGroup,
} from "../../storage/groups";
import { requireScanBudget } from "../../storage/scan-budget";
import { encodeCursor } from "../../storage/listing";
import { readJsonBody } from "../body";
import { parseWith, validQuery } from "../validation";
import { type ListQuery, listQuerySchema, type ProjectionQuery, projectionQuerySchema } from "./list-query";
import { methodNotAllowed, planFromQuery, projectionOf, searchBody, wantsDerived } from "./listing";
import { ifMatchVersion, notModified } from "./preconditions";
import { scimJson } from "./respond";
import { tenantBaseUrl } from "./urls";

const RESOURCE: ResourceTypeName = "Group";
type Ctx = Context<AppEnv>;


/** The group-write methods of the tenant's Durable Object, called over RPC. */
type GroupWriter = Pick<TenantCoordinator, "createGroup" | "replaceGroup" | "patchGroup" | "deleteGroup">;

function coordinator(c: Ctx): GroupWriter {
  const stub = c.env.TENANT_COORDINATOR.getByName(c.var.tenantDb.tenantId);
  // The stub mirrors the class's methods, but tsc cannot check that: the typed RPC stub
  // recurses too deep on the JSON document type (TS2589), so the cast is required.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  return stub as unknown as GroupWriter;
}

/** Splits a validated Group body into its document and member ids (members live in their own table). */
function splitMembers(doc: ScimDocument): { doc: ScimDocument; memberIds: string[] } {
  const { members, ...rest } = doc;
  const list = Array.isArray(members) ? members : [];
  const memberIds = list.map((m) => {
    const member = m as { value?: unknown; type?: unknown };
    if (typeof member.value !== "string") throw scimErrors.invalidValue("Every member needs a string 'value' (a user id).");
    if (typeof member.type === "string" && member.type.toLowerCase() === "group") {
      throw scimErrors.invalidValue(`Member '${member.value}' is a group; nested groups are not supported.`);
    }
    return member.value;
  });
  return { doc: rest, memberIds };
}

function render(c: Ctx, group: StoredGroup, query: ProjectionQuery) {
  const baseUrl = tenantBaseUrl(c);
  const derived: Record<string, JsonValue> = {};
  if (group.members) {
    derived.members = group.members.map((m) => ({
      value: m.value,
      ...(m.display !== null ? { display: m.display } : {}),
      type: m.type,
      $ref: locationOf(baseUrl, "User", m.value),
    }));
  }
  return renderResource(RESOURCE, group, baseUrl, derived, projectionOf(query));
}

function single(c: Ctx, group: StoredGroup, status: number, query: ProjectionQuery) {
  const headers: Record<string, string> = { ETag: etagOf(group.version) };
  if (status === 201) headers.Location = locationOf(tenantBaseUrl(c), RESOURCE, group.id);
  return scimJson(render(c, group, query), status, headers);
}

async function list(c: Ctx, query: ListQuery): Promise<Response> {
  const tdb = c.var.tenantDb;
  const plan = planFromQuery(RESOURCE, tdb.tenantId, query);
  const total = plan.filter ? countGroupsQuery(tdb.db, tdb.tenantId, plan.filter, plan.scan) : groupCountQuery(tdb.db, tdb.tenantId);
  if (query.count === 0 && query.cursor === undefined) {
    const { results: [totals] } = await tdb.read([total] as const);
    requireScanBudget(RESOURCE, plan.scan, totals[0]);
    return scimJson(listResponse([], totals[0]?.total ?? 0, query.startIndex));
  }
  const page = selectGroupsPageQuery(tdb.db, tdb.tenantId, { ...plan, includeMembers: wantsDerived("members", query) });
  const { results: [rows, totals] } = await tdb.read([page, total] as const);
  requireScanBudget(RESOURCE, plan.scan, totals[0]);
  const pageRows = query.cursor !== undefined ? rows.slice(0, query.count) : rows;
  const next = query.cursor !== undefined && rows.length > query.count ? pageRows.at(-1) : undefined;
  const resources = pageRows.map((row) => render(c, toStoredGroup(row), query));
  const startIndex = query.cursor !== undefined ? 1 : query.startIndex;
  return scimJson(listResponse(resources, totals[0]?.total ?? 0, startIndex, next ? encodeCursor(next.seq) : undefined));
}

export const groupRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    c.var.tenantDb.scope = "groups";
    await next();
  })
  .get("/", validQuery(listQuerySchema), (c) => list(c, c.req.valid("query")))
  .post("/.search", async (c) => list(c, parseWith(listQuerySchema, searchBody(await readJsonBody(c.req.raw)))))
  .post("/", async (c) => {
    const { doc, memberIds } = splitMembers(unwrap(parseResource(RESOURCE, await readJsonBody(c.req.raw))));
    const group = unwrapOutcome(await coordinator(c).createGroup(c.var.tenantDb.auth, doc, memberIds));
    return single(c, group, 201, parseWith(projectionQuerySchema, c.req.query()));
  })
  .get("/:id", async (c) => {
    const query = parseWith(projectionQuerySchema, c.req.query());
    // excludedAttributes=members must not even read the membership table.
    const group = await readGroup(c.var.tenantDb, c.req.param("id"), wantsDerived("members", query));
    if (notModified(c, group.version)) return c.body(null, 304, { ETag: etagOf(group.version) });
    return single(c, group, 200, query);
  })
  .put("/:id", async (c) => {
    const { doc, memberIds } = splitMembers(unwrap(parseResource(RESOURCE, await readJsonBody(c.req.raw))));
    const outcome = await coordinator(c).replaceGroup(c.var.tenantDb.auth, c.req.param("id"), doc, memberIds, ifMatchVersion(c));
    return single(c, unwrapOutcome(outcome), 200, parseWith(projectionQuerySchema, c.req.query()));
  })
  .patch("/:id", async (c) => {
    const operations = unwrap(parsePatchRequest(await readJsonBody(c.req.raw)));
    // 204 unless the client asks for a body with attributes/excludedAttributes (RFC 7644 §3.5.2).
    const wantsBody = c.req.query("attributes") !== undefined || c.req.query("excludedAttributes") !== undefined;
    const query = parseWith(projectionQuerySchema, c.req.query());
    const withResult = wantsBody ? { includeMembers: wantsDerived("members", query) } : undefined;
    const outcome = await coordinator(c).patchGroup(c.var.tenantDb.auth, c.req.param("id"), operations, ifMatchVersion(c), withResult);
    const group = unwrapOutcome(outcome);
    return group ? single(c, group, 200, query) : c.body(null, 204);
  })
  .delete("/:id", async (c) => {
    unwrapOutcome(await coordinator(c).deleteGroup(c.var.tenantDb.auth, c.req.param("id"), ifMatchVersion(c)));
    return c.body(null, 204);
  })
  .all("/", methodNotAllowed("GET, POST"))
  .all("/:id", methodNotAllowed("GET, PUT, PATCH, DELETE"));
