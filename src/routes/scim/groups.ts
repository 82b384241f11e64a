/**
 * /Groups (RFC 7644 §3.3–§3.6). Reads go to D1 directly; every write goes through the
 * tenant's Durable Object, which applies group writes one at a time.
 */
import { type Context, Hono } from "hono";
import type { TenantCoordinator } from "../../durable/tenant-coordinator";
import { type Outcome, unwrapOutcome } from "../../durable/tenant-coordinator";
import type { AppEnv } from "../../env";
import { scimErrors, unwrap } from "../../scim/errors";
import { listResponse } from "../../scim/list-response";
import { parsePatchRequest } from "../../scim/patch";
import { etagOf, locationOf } from "../../scim/resource";
import { parseResource, type ResourceTypeName, type ScimDocument } from "../../scim/schema";
import {
  countGroupsQuery,
  groupCountQuery,
  readGroup,
  selectGroupsPageQuery,
  selectPageMembersQuery,
  type StoredGroup,
  toStoredGroup,
} from "../../storage/group-reads";
import { requireScanBudget } from "../../storage/scan-budget";
import { encodeCursor } from "../../storage/listing";
import { readJsonBody } from "../body";
import { parseWith, validQuery } from "../validation";
import { type ListQuery, listQuerySchema, type ProjectionQuery, projectionQuerySchema } from "./list-query";
import { firstMemberPages, groupListResponse, groupResponse } from "./group-body";
import { methodNotAllowed, planFromQuery, searchBody, wantsDerived } from "./listing";
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

/** The write's auth for the Durable Object, with the log row its success (`status`) commits. */
function writeAuth(c: Ctx, status: number) {
  c.var.tenantDb.logSuccessAs(status);
  return c.var.tenantDb.auth;
}

/** The Durable Object's answer; notes when its write's batch carried this request's log row. */
function settled<T>(c: Ctx, outcome: Outcome<T>): T {
  if (outcome.ok && outcome.loggedStatus !== undefined) c.var.tenantDb.loggedStatus = outcome.loggedStatus;
  return unwrapOutcome(outcome);
}

/** Splits a validated Group body into its document and member ids (members live in their own table). */
/**
 * A member's `type` is not trusted: clients often omit it (SCIM-SDK#419), so storage reads
 * whether each id is a user or a group of the tenant (nested groups, storage/group-nesting.ts).
 */
function splitMembers(doc: ScimDocument): { doc: ScimDocument; memberIds: string[]; displays: Map<string, string> } {
  const { members, ...rest } = doc;
  const list = Array.isArray(members) ? members : [];
  // What the client sent as `display`, shown for a user member without a displayName of its own.
  const displays = new Map<string, string>();
  const memberIds = list.map((m) => {
    const member = m as { value?: unknown; display?: unknown };
    if (typeof member.value !== "string") throw scimErrors.invalidValue("Every member needs a string 'value' (a user or group id).");
    if (typeof member.display === "string" && member.display !== "") displays.set(member.value, member.display);
    return member.value;
  });
  return { doc: rest, memberIds, displays };
}

function single(c: Ctx, group: StoredGroup, status: number, query: ProjectionQuery) {
  const headers: Record<string, string> = { ETag: etagOf(group.version) };
  if (status === 201) headers.Location = locationOf(tenantBaseUrl(c), RESOURCE, group.id);
  return groupResponse(c, group, status, headers, query);
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
  const pageQuery = { ...plan, includeMembers: wantsDerived("members", query) };
  const page = selectGroupsPageQuery(tdb.db, tdb.tenantId, pageQuery);
  // The page's first members ride in the same batch, as rows (never one aggregated value).
  const members = pageQuery.includeMembers ? selectPageMembersQuery(tdb.db, tdb.tenantId, pageQuery) : undefined;
  const { results } = members ? await tdb.read([page, total, members] as const) : await tdb.read([page, total] as const);
  const [rows, totals] = results;
  requireScanBudget(RESOURCE, plan.scan, totals[0]);
  const pageRows = query.cursor !== undefined ? rows.slice(0, query.count) : rows;
  const next = query.cursor !== undefined && rows.length > query.count ? pageRows.at(-1) : undefined;
  const stored = pageRows.map((row) => toStoredGroup(row));
  return groupListResponse(
    c,
    {
      groups: results[2] ? firstMemberPages(stored, results[2]) : stored,
      totalResults: totals[0]?.total ?? 0,
      startIndex: query.cursor !== undefined ? 1 : query.startIndex,
      ...(next ? { nextCursor: encodeCursor(next.seq) } : {}),
    },
    query,
  );
}

export const groupRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    c.var.tenantDb.scope = "groups";
    await next();
  })
  .get("/", validQuery(listQuerySchema), (c) => list(c, c.req.valid("query")))
  .post("/.search", async (c) => list(c, parseWith(listQuerySchema, searchBody(await readJsonBody(c.req.raw)))))
  .post("/", async (c) => {
    const { doc, memberIds, displays } = splitMembers(unwrap(parseResource(RESOURCE, await readJsonBody(c.req.raw))));
    const group = settled(c, await coordinator(c).createGroup(writeAuth(c, 201), doc, memberIds, displays));
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
    const { doc, memberIds, displays } = splitMembers(unwrap(parseResource(RESOURCE, await readJsonBody(c.req.raw))));
    const outcome = await coordinator(c).replaceGroup(writeAuth(c, 200), c.req.param("id"), doc, memberIds, displays, ifMatchVersion(c));
    return single(c, settled(c, outcome), 200, parseWith(projectionQuerySchema, c.req.query()));
  })
  .patch("/:id", async (c) => {
    const operations = unwrap(parsePatchRequest(await readJsonBody(c.req.raw)));
    // 204 unless the client asks for a body with attributes/excludedAttributes (RFC 7644 §3.5.2).
    const wantsBody = c.req.query("attributes") !== undefined || c.req.query("excludedAttributes") !== undefined;
    const query = parseWith(projectionQuerySchema, c.req.query());
    const withResult = wantsBody ? { includeMembers: wantsDerived("members", query) } : undefined;
    const auth = writeAuth(c, wantsBody ? 200 : 204);
    const outcome = await coordinator(c).patchGroup(auth, c.req.param("id"), operations, ifMatchVersion(c), withResult);
    const group = settled(c, outcome);
    return group ? single(c, group, 200, query) : c.body(null, 204);
  })
  .delete("/:id", async (c) => {
    settled(c, await coordinator(c).deleteGroup(writeAuth(c, 204), c.req.param("id"), ifMatchVersion(c)));
    return c.body(null, 204);
  })
  .all("/", methodNotAllowed("GET, POST"))
  .all("/:id", methodNotAllowed("GET, PUT, PATCH, DELETE"));
