/**
 * Response bodies of groups: one JSON string when every member was read with the group (a
 * group of at most one page of members: the common case, one D1 round trip), else a stream
 * (stream-body.ts) that writes the group and then its members page by page, reading each page
 * from D1 as the client consumes the body. The Worker holds one page of members at a time,
 * whatever the group's size (a 100,000-member group is about 15 MB of JSON).
 */
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { scimErrors } from "../../scim/errors";
import { locationOf, renderResource } from "../../scim/resource";
import type { JsonObject, JsonValue } from "../../scim/schema";
import { MEMBER_PAGE_ROWS, type MemberPage, type MemberRef, readMemberPage, remainingMemberPages } from "../../storage/group-members";
import type { StoredGroup } from "../../storage/group-reads";
import type { ProjectionQuery } from "./list-query";
import type { RenderedPage } from "./list-body";
import { projectionOf } from "./listing";
import { scimJson } from "./respond";
import { splitAround, streamedJson } from "./stream-body";
import { tenantBaseUrl } from "./urls";

type Ctx = Context<AppEnv>;

/**
 * D1 allows 1,000 queries per Worker invocation; a response reads at most this many pages of
 * members after its first batch (4,500,000 members), else it is refused before any is read.
 */
export const MAX_MEMBER_PAGES_PER_RESPONSE = 900;

export function renderGroup(c: Ctx, group: StoredGroup, query: ProjectionQuery): JsonObject {
  const baseUrl = tenantBaseUrl(c);
  const derived: Record<string, JsonValue> = {};
  if (group.members) {
    derived.members = group.members.map((m) => ({
      value: m.value,
      ...(m.display !== null ? { display: m.display } : {}),
      type: m.type,
      // A nested group's $ref is /Groups/{id} (RFC 7643 §4.2).
      $ref: locationOf(baseUrl, m.type, m.value),
    }));
  }
  return renderResource("Group", group, baseUrl, derived, projectionOf(query));
}

/** The elements of a JSON array, without its brackets ("" for none). */
function elements(values: readonly JsonValue[]): string {
  return JSON.stringify(values).slice(1, -1);
}

/** Whether some group still has members to read after its first page. */
function streams(group: StoredGroup): boolean {
  return group.membersContinueAfter !== undefined;
}

/** The group as JSON text, piece by piece: its members after the first page are read on the way. */
async function* groupJson(c: Ctx, listed: StoredGroup, query: ProjectionQuery): AsyncGenerator<string, void> {
  let group = listed;
  if (streams(group) && (group.members?.length ?? 0) === 0) {
    // A list's shared first statement did not reach this group: its first page is read now,
    // so that the projection sees real members (it drops an empty list).
    const { membersContinueAfter, ...plain } = group;
    const page = await readMemberPage(c.var.tenantDb, group.id, membersContinueAfter);
    group = { ...plain, members: page.members, ...(page.continueAfter !== undefined ? { membersContinueAfter: page.continueAfter } : {}) };
  }
  const rendered = renderGroup(c, group, query);
  const first = rendered.members;
  if (!streams(group) || !Array.isArray(first)) {
    yield JSON.stringify(rendered);
    return;
  }
  const [before, after] = splitAround(rendered, "members");
  let written = first.length > 0;
  yield `${before}[${elements(first)}`;
  const rest: MemberPage = { members: [], continueAfter: group.membersContinueAfter };
  for await (const page of remainingMemberPages(c.var.tenantDb, group.id, rest)) {
    // The same rendering and projection (e.g. attributes=members.value) as the first page.
    const { membersContinueAfter: _more, ...plain } = group;
    const projected = renderGroup(c, { ...plain, members: page }, query).members;
    if (!Array.isArray(projected) || projected.length === 0) continue;
    yield `${written ? "," : ""}${elements(projected)}`;
    written = true;
  }
  yield `]${after}`;
}

/** Pages of members still to read for these groups, from their member counts. */
function pagesToRead(groups: readonly StoredGroup[]): number {
  return groups
    .filter(streams)
    .reduce((pages, g) => pages + Math.max(1, Math.ceil((g.memberCount - (g.members?.length ?? 0)) / MEMBER_PAGE_ROWS)), 0);
}

function checkPageBudget(groups: readonly StoredGroup[]): void {
  if (pagesToRead(groups) > MAX_MEMBER_PAGES_PER_RESPONSE) {
    throw scimErrors.tooMany(
      `These groups have more members than one response can read (${MAX_MEMBER_PAGES_PER_RESPONSE * MEMBER_PAGE_ROWS} after the first page); ask for fewer groups (count) or use excludedAttributes=members.`,
    );
  }
}

/** One group as the response: a single JSON string, or streamed when its members span pages. */
export function groupResponse(c: Ctx, group: StoredGroup, status: number, headers: Record<string, string>, query: ProjectionQuery): Response {
  if (!streams(group)) return scimJson(renderGroup(c, group, query), status, headers);
  checkPageBudget([group]);
  return streamedJson(groupJson(c, group, query), status, headers);
}

/** A list page of groups rendered: streamed, group after group, when any group's members span pages. */
export function renderedGroupPage(c: Ctx, groups: readonly StoredGroup[], query: ProjectionQuery): RenderedPage {
  if (!groups.some(streams)) return { length: groups.length, inline: groups.map((g) => renderGroup(c, g, query)) };
  checkPageBudget(groups);
  async function* parts(): AsyncGenerator<string, void> {
    for (const [i, group] of groups.entries()) {
      if (i > 0) yield ",";
      yield* groupJson(c, group, query);
    }
  }
  return { length: groups.length, stream: parts };
}

/**
 * Each group's first page of members from a list page's shared members statement (rows by
 * group then member, at most MEMBER_PAGE_ROWS + 1). When the statement was cut short, the
 * group it stopped in continues after its last member, and groups it did not reach (by their
 * member count) continue from their first member.
 */
export function firstMemberPages(groups: readonly StoredGroup[], rows: readonly (MemberRef & { groupId: string })[]): StoredGroup[] {
  const complete = rows.length <= MEMBER_PAGE_ROWS;
  const kept = rows.slice(0, MEMBER_PAGE_ROWS);
  const byGroup = new Map<string, MemberRef[]>();
  for (const { groupId, value, display, type } of kept) {
    let list = byGroup.get(groupId);
    if (!list) byGroup.set(groupId, (list = []));
    list.push({ value, display, type });
  }
  const last = kept.at(-1);
  return groups.map((group) => {
    const members = byGroup.get(group.id) ?? [];
    const withMembers: StoredGroup = { ...group, members };
    if (complete) return withMembers;
    if (last && group.id === last.groupId) return { ...withMembers, membersContinueAfter: last.value };
    if (!byGroup.has(group.id) && group.memberCount > 0) return { ...withMembers, membersContinueAfter: "" };
    return withMembers;
  });
}
