/**
 * /Groups (RFC 7644 §3.3–§3.6). Reads go to D1 directly; every write goes through the
 * tenant's Durable Object, which applies group writes one at a time.
 */
import type { TenantCoordinator } from "../../durable/tenant-coordinator";
import { type Outcome, unwrapOutcome } from "../../durable/tenant-coordinator";
import { scimErrors, unwrap } from "../../scim/errors";
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
import { firstMemberPages, groupResponse, renderedGroupPage } from "./group-body";
import type { ResourcePage } from "./list-body";
import { type ListQuery, NO_PROJECTION, type ProjectionQuery } from "./list-query";
import { planFromQuery, wantsDerived } from "./listing";
import { notModified } from "./preconditions";
import type { Ctx, ResourceOperations } from "./resource-operations";
import { tenantBaseUrl } from "./urls";

const RESOURCE: ResourceTypeName = "Group";


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

async function list(c: Ctx, query: ListQuery): Promise<ResourcePage> {
  const tdb = c.var.tenantDb;
  const plan = planFromQuery(RESOURCE, tdb.tenantId, query);
  const total = plan.filter ? countGroupsQuery(tdb.db, tdb.tenantId, plan.filter, plan.scan) : groupCountQuery(tdb.db, tdb.tenantId);
  if (query.count === 0 && query.cursor === undefined) {
    const { results: [totals] } = await tdb.read([total] as const);
    requireScanBudget(RESOURCE, plan.scan, totals[0]);
    return { length: 0, inline: [], totalResults: totals[0]?.total ?? 0 };
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
  return {
    ...renderedGroupPage(c, results[2] ? firstMemberPages(stored, results[2]) : stored, query),
    totalResults: totals[0]?.total ?? 0,
    ...(next ? { nextCursor: encodeCursor(next.seq) } : {}),
  };
}

/** Parses a POST/PUT body into the group's document and member ids, as every way of writing a group does. */
function groupDocument(body: unknown): ReturnType<typeof splitMembers> {
  return splitMembers(unwrap(parseResource(RESOURCE, body)));
}

export const groupOperations: ResourceOperations = {
  list,
  async read(c, id, projection) {
    // excludedAttributes=members must not even read the membership table.
    const group = await readGroup(c.var.tenantDb, id, wantsDerived("members", projection));
    if (notModified(c, group.version)) return c.body(null, 304, { ETag: etagOf(group.version) });
    return single(c, group, 200, projection);
  },
  async create(c, { body, projection }) {
    const { doc, memberIds, displays } = groupDocument(body);
    const group = settled(c, await coordinator(c).createGroup(writeAuth(c, 201), doc, memberIds, displays));
    return single(c, group, 201, projection ?? NO_PROJECTION);
  },
  async replace(c, id, { body, ifMatch, projection }) {
    const { doc, memberIds, displays } = groupDocument(body);
    const outcome = await coordinator(c).replaceGroup(writeAuth(c, 200), id, doc, memberIds, displays, ifMatch);
    return single(c, settled(c, outcome), 200, projection ?? NO_PROJECTION);
  },
  async patch(c, id, { body, ifMatch, projection }) {
    const operations = unwrap(parsePatchRequest(body));
    // 204 unless the client asks for a body with attributes/excludedAttributes (RFC 7644 §3.5.2).
    const withResult = projection ? { includeMembers: wantsDerived("members", projection) } : undefined;
    const auth = writeAuth(c, projection ? 200 : 204);
    const outcome = await coordinator(c).patchGroup(auth, id, operations, ifMatch, withResult);
    const group = settled(c, outcome);
    return group && projection ? single(c, group, 200, projection) : c.body(null, 204);
  },
  async remove(c, id, { ifMatch }) {
    settled(c, await coordinator(c).deleteGroup(writeAuth(c, 204), id, ifMatch));
    return c.body(null, 204);
  },
};
