/**
 * Large groups: membership changes cost O(changed members), never O(group size)
 * (IDP-BEHAVIOUR.md, traps: "Adding one member to a 1,300-member group took 22 s (the whole
 * group was loaded and rewritten)"), reads that exclude members never touch group_members, and
 * one request may name at most MAX_MEMBERS_PER_REQUEST members (413 beyond, nothing applied).
 *
 * How the SQL is captured, on the real bindings:
 * - Worker side (reads, and the Worker's half of a write): `send()` from support/counting-env
 *   runs the app's fetch handler with a D1 proxy that records every statement.
 * - Durable Object side: support/coordinator.ts records the tenant's TenantCoordinator, so the
 *   exact SQL and parameters storage/groups.ts built for the request are seen.
 * Each recorded statement is then run through `EXPLAIN QUERY PLAN` with its own parameters
 * (explaining does not execute it), and D1's `rows_read` per statement is kept as a second,
 * independent witness.
 *
 * The 100,000-member groups are seeded straight into D1 (support/seed.ts for the users,
 * support/group-seed.ts for the memberships: set-based INSERTs, ≤ 100 bound parameters per
 * statement), ~2 s each, so every test still gets its own tenant.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../src/routes/body";
import { MAX_MEMBER_PAGES_PER_RESPONSE } from "../src/routes/scim/group-body";
import { MEMBER_PAGE_ROWS } from "../src/storage/group-members";
import { MAX_MEMBERS_PER_REQUEST } from "../src/storage/groups";
import { recordCoordinator } from "./support/coordinator";
import { type CountingEnv, countingEnv, MAX_BOUND_PARAMETERS, send, type StatementRecord } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { attachSeededMembers } from "./support/group-seed";
import { bodyOf, createTenant, scim, SCIM_JSON, type TestTenant } from "./support/http";
import { type Seeded, seedUsers } from "./support/seed";
import { GROUP, PATCH_OP } from "./support/urns";
import { shardOf } from "./support/shards";

const BIG = 100_000;

interface GroupJson {
  id: string;
  displayName: string;
  members?: { value: string }[];
  meta: { version: string };
}

interface Fixture {
  tenant: TestTenant;
  seeded: Seeded;
  group: GroupJson;
  /** Records the statements the tenant's Durable Object sends to D1. */
  coordinator: CountingEnv;
}

/** Worker-side recorder for send(). */
const worker = countingEnv(env);

/** A tenant with `members + spare` seeded users and one group (created over HTTP) holding users 1..members. */
async function groupWithMembers(members: number, spare: number, displayName: string): Promise<Fixture> {
  const tenant = await createTenant();
  const seeded = await seedUsers(env, tenant.id, { users: members + spare });
  const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName, members: [] } });
  const group = await bodyOf<GroupJson>(res);
  expect(res.status, JSON.stringify(group)).toBe(201);
  expect(await attachSeededMembers(env, seeded, group.id, 1, members)).toBe(members);
  return { tenant, seeded, group, coordinator: await recordCoordinator(tenant.id) };
}

function patchBody(Operations: unknown[]) {
  return { schemas: [PATCH_OP], Operations };
}

function addOp(ids: string[]) {
  return { op: "add", path: "members", value: ids.map((value) => ({ value })) };
}

function removeOp(id: string) {
  return { op: "remove", path: `members[value eq "${id}"]` };
}

/** Seeded users first..last. */
function userIds(seeded: Seeded, first: number, last: number): string[] {
  return Array.from({ length: last - first + 1 }, (_, i) => seeded.userId(first + i));
}

interface Measured {
  status: number;
  etag: string | null;
  text: string;
  /** Statements the Worker sent before answering. */
  worker: StatementRecord[];
  /** Statements the tenant's Durable Object sent. */
  coordinator: StatementRecord[];
  coordinatorRoundTrips: number;
}

/** Sends one request through the app with both recorders on. */
async function measure(fx: Fixture, method: string, path: string, json?: unknown): Promise<Measured> {
  fx.coordinator.reset();
  const headers: Record<string, string> = { Authorization: `Bearer ${fx.tenant.token}` };
  if (json !== undefined) headers["Content-Type"] = SCIM_JSON;
  const request = new Request(`${fx.tenant.baseUrl}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const sent = await send(worker, request);
  const trips = [...fx.coordinator.roundTrips];
  expect(trips.every((t) => t.settled), "every Durable Object D1 call settled before the response").toBe(true);
  expect(fx.coordinator.violations, "Durable Object statements within D1's parameter limit").toEqual([]);
  return {
    status: sent.response.status,
    etag: sent.response.headers.get("ETag"),
    text: await sent.response.text(),
    worker: sent.statements,
    coordinator: trips.flatMap((t) => t.statements),
    coordinatorRoundTrips: trips.length,
  };
}

async function planOf(tenantId: string, statement: StatementRecord): Promise<string[]> {
  const { results } = await (await shardOf(tenantId)).prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
    .bind(...statement.params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

interface Explained extends StatementRecord {
  plan: string[];
}

/** Plans on the shard of `tenantId`, where the statements ran. */
async function explainAll(tenantId: string, statements: StatementRecord[]): Promise<Explained[]> {
  const explained: Explained[] = [];
  for (const s of statements) explained.push({ ...s, plan: await planOf(tenantId, s) });
  return explained;
}

function report(statements: Explained[]): string {
  return statements
    .map((s, i) => `#${i + 1} [${s.params.length} params, rows_read ${s.rowsRead ?? "?"}] ${s.sql}\n    ${s.plan.join("\n    ")}`)
    .join("\n");
}

function totalRowsRead(statements: StatementRecord[]): number {
  return statements.reduce((sum, s) => sum + (s.rowsRead ?? 0), 0);
}

/**
 * A plan line over group_members is acceptable only as a SEARCH through the primary key
 * (sqlite_autoindex_group_members_1: tenant_id, group_id, member_id) or group_members_member
 * (tenant_id, member_id) that pins member_id: a SEARCH on (tenant_id, group_id) alone would
 * still walk every member of the group.
 */
const MEMBER_LOOKUP =
  /^SEARCH group_members (?:EXISTS )?USING (?:COVERING )?INDEX (?:sqlite_autoindex_group_members_1|group_members_member) \((?:[^)]*\bAND )?member_id=\?(?: AND [^)]*)?\)$|^SEARCH group_members (?:EXISTS )?USING (?:INTEGER )?PRIMARY KEY/;

function expectIndexedMemberLookups(statements: Explained[], what: string): number {
  const lines = statements.flatMap((s) => s.plan).filter((line) => /\bgroup_members\b/.test(line));
  for (const line of lines) {
    expect(line, `${what}: every group_members plan line must be an indexed lookup by member_id:\n${report(statements)}`).toMatch(MEMBER_LOOKUP);
  }
  expect(
    statements.flatMap((s) => s.plan).filter((line) => /^SCAN group_members\b/.test(line)),
    `${what}: no SCAN of group_members:\n${report(statements)}`,
  ).toEqual([]);
  return lines.length;
}

async function storedGroup(tenantId: string, groupId: string) {
  return (await shardOf(tenantId)).prepare(
    `SELECT display_name AS displayName, version, member_count AS memberCount,
            (SELECT count(*) FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id) AS rows
     FROM groups g WHERE tenant_id = ? AND id = ?`,
  )
    .bind(tenantId, groupId)
    .first<{ displayName: string; version: number; memberCount: number; rows: number }>();
}

async function isMemberRow(tenantId: string, groupId: string, userId: string): Promise<boolean> {
  const row = await (await shardOf(tenantId)).prepare("SELECT 1 AS one FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_id = ?").bind(tenantId, groupId, userId).first();
  return row !== null;
}

/**
 * The statement budget of a change naming k members: a fixed handful (the token, group,
 * existence, cycle and nesting-depth guards, the log row, the version bump, the
 * members_changed events of the group and of the groups it is nested in, the roles_changed
 * events, the member count, the member type) plus at least ten members per statement.
 * Nothing in it depends on the group's size.
 */
function statementBudget(k: number): number {
  return 12 + Math.ceil(k / 10);
}

/** rows_read budget of a change naming k members: a few index probes per member, never the group. */
function rowsReadBudget(k: number): number {
  return 50 + 10 * k;
}

describe("membership changes on a 100,000-member group are O(changed members)", () => {
  it("adds ONE member to a 100,000-member group with the same statements as to a 10-member group, every group_members access an indexed SEARCH by member_id", async () => {
    const big = await groupWithMembers(BIG, 10, "Everyone");
    const small = await groupWithMembers(10, 10, "Few");
    const newcomerBig = big.seeded.userId(BIG + 1);
    const newcomerSmall = small.seeded.userId(11);

    const onBig = await measure(big, "PATCH", `/Groups/${big.group.id}`, patchBody([addOp([newcomerBig])]));
    const onSmall = await measure(small, "PATCH", `/Groups/${small.group.id}`, patchBody([addOp([newcomerSmall])]));
    expect(onBig.status, onBig.text).toBe(204);
    expect(onSmall.status, onSmall.text).toBe(204);

    const bigExplained = await explainAll(big.tenant.id, onBig.coordinator);
    const smallExplained = await explainAll(small.tenant.id, onSmall.coordinator);
    const context = `100,000 members:\n${report(bigExplained)}\n10 members:\n${report(smallExplained)}`;
    // The same statements, in the same order, whatever the group's size.
    expect(onBig.coordinator.map((s) => s.sql), context).toEqual(onSmall.coordinator.map((s) => s.sql));
    expect(onBig.coordinatorRoundTrips, context).toBe(onSmall.coordinatorRoundTrips);
    expect(onBig.coordinator.length, context).toBeLessThanOrEqual(statementBudget(1));
    expect(onBig.worker.length, context).toBe(onSmall.worker.length);
    // The member list is never read: only index probes by member_id.
    expect(expectIndexedMemberLookups(bigExplained, "add one member"), `the change does check the membership it adds:\n${context}`).toBeGreaterThan(0);
    expect(onBig.worker.filter((s) => /group_members/.test(s.sql)), "the Worker side of a group write does not touch group_members").toEqual([]);
    // rows_read, D1's own witness: nothing near 100,000, and no more than on the small group.
    expect(totalRowsRead(onBig.coordinator), context).toBeLessThanOrEqual(rowsReadBudget(1));
    expect(totalRowsRead(onBig.coordinator), context).toBeLessThanOrEqual(totalRowsRead(onSmall.coordinator));
    expect(Math.max(...onBig.coordinator.map((s) => s.params.length)), context).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);

    expect(await storedGroup(big.tenant.id, big.group.id)).toMatchObject({ memberCount: BIG + 1, rows: BIG + 1 });
    expect(await isMemberRow(big.tenant.id, big.group.id, newcomerBig)).toBe(true);
  });

  it("adds 100 members and removes 1 member with statement counts and rows_read bounded by k alone (equal on 100,000 and 10 members), ≤ 100 parameters each", async () => {
    const big = await groupWithMembers(BIG, 100, "Everyone");
    const small = await groupWithMembers(10, 100, "Few");
    const cases: { label: string; k: number; body: (fx: Fixture, size: number) => unknown; memberCount: (size: number) => number }[] = [
      { label: "add 100", k: 100, body: (fx, size) => patchBody([addOp(userIds(fx.seeded, size + 1, size + 100))]), memberCount: (size) => size + 100 },
      { label: "remove 1", k: 1, body: (fx) => patchBody([removeOp(fx.seeded.userId(1))]), memberCount: (size) => size + 99 },
    ];
    for (const { label, k, body, memberCount } of cases) {
      const onBig = await measure(big, "PATCH", `/Groups/${big.group.id}`, body(big, BIG));
      const onSmall = await measure(small, "PATCH", `/Groups/${small.group.id}`, body(small, 10));
      expect(onBig.status, `${label}: ${onBig.text}`).toBe(204);
      expect(onSmall.status, `${label}: ${onSmall.text}`).toBe(204);
      const bigExplained = await explainAll(big.tenant.id, onBig.coordinator);
      const context = `${label} on 100,000 members:\n${report(bigExplained)}\n${label} on 10 members:\n${report(await explainAll(small.tenant.id, onSmall.coordinator))}`;
      expect(onBig.coordinator.map((s) => s.sql), context).toEqual(onSmall.coordinator.map((s) => s.sql));
      expect(onBig.coordinator.length, context).toBeLessThanOrEqual(statementBudget(k));
      expect(Math.max(...onBig.coordinator.map((s) => s.params.length)), context).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
      expectIndexedMemberLookups(bigExplained, label);
      expect(totalRowsRead(onBig.coordinator), context).toBeLessThanOrEqual(rowsReadBudget(k));
      expect(totalRowsRead(onBig.coordinator), context).toBeLessThanOrEqual(totalRowsRead(onSmall.coordinator));
      expect(await storedGroup(big.tenant.id, big.group.id), label).toMatchObject({ memberCount: memberCount(BIG), rows: memberCount(BIG) });
      expect(await storedGroup(small.tenant.id, small.group.id), label).toMatchObject({ memberCount: memberCount(10), rows: memberCount(10) });
    }
    expect(await isMemberRow(big.tenant.id, big.group.id, big.seeded.userId(1))).toBe(false);
    expect(await isMemberRow(big.tenant.id, big.group.id, big.seeded.userId(BIG + 100))).toBe(true);
  });
});

describe("reads of a 100,000-member group", () => {
  it("reads GET /Groups/{id}?excludedAttributes=members (and the displayName lookup with it) without a single statement on group_members", async () => {
    const big = await groupWithMembers(BIG, 0, "Everyone");
    const one = await measure(big, "GET", `/Groups/${big.group.id}?excludedAttributes=members`);
    const body = JSON.parse(one.text) as GroupJson;
    expect(one.status, one.text).toBe(200);
    expect(body, one.text).not.toHaveProperty("members");
    expect(body.displayName).toBe("Everyone");
    const oneExplained = await explainAll(big.tenant.id, one.worker);
    expect(one.worker.filter((s) => /group_members/.test(s.sql)), report(oneExplained)).toEqual([]);
    expect(totalRowsRead(one.worker), report(oneExplained)).toBeLessThan(10);
    expect(one.coordinator, "a read never goes through the Durable Object").toEqual([]);

    const filter = encodeURIComponent('displayName eq "Everyone"');
    const listed = await measure(big, "GET", `/Groups?excludedAttributes=members&filter=${filter}`);
    const list = JSON.parse(listed.text) as { totalResults: number; Resources: GroupJson[] };
    expect(listed.status, listed.text).toBe(200);
    expect(list.totalResults, listed.text).toBe(1);
    expect(list.Resources[0], listed.text).not.toHaveProperty("members");
    const listExplained = await explainAll(big.tenant.id, listed.worker);
    expect(listed.worker.filter((s) => /group_members/.test(s.sql)), report(listExplained)).toEqual([]);
    expect(totalRowsRead(listed.worker), report(listExplained)).toBeLessThan(10);
  });

  it("answers Entra's membership check on a 100,000-member group through indexed lookups by member_id, reading a handful of rows", async () => {
    const big = await groupWithMembers(BIG, 1, "Everyone");
    const check = async (userId: string) => {
      const filter = encodeURIComponent(`id eq "${big.group.id}" and members[value eq "${userId}"]`);
      const sent = await measure(big, "GET", `/Groups?filter=${filter}&excludedAttributes=members`);
      const explained = await explainAll(big.tenant.id, sent.worker);
      expect(sent.status, sent.text).toBe(200);
      expectIndexedMemberLookups(explained, "membership check");
      expect(totalRowsRead(sent.worker), report(explained)).toBeLessThan(20);
      return (JSON.parse(sent.text) as { totalResults: number }).totalResults;
    };
    expect(await check(big.seeded.userId(BIG / 2)), "a member is found").toBe(1);
    expect(await check(big.seeded.userId(BIG + 1)), "a non-member is not").toBe(0);
  });

  it("reads a member of a 100,000-member group (GET /Users/{id} with its groups) through group_members_member, not the tenant's whole membership table", async () => {
    const big = await groupWithMembers(BIG, 0, "Everyone");
    const sent = await measure(big, "GET", `/Users/${big.seeded.userId(BIG / 2)}`);
    const explained = await explainAll(big.tenant.id, sent.worker);
    expect(sent.status, sent.text).toBe(200);
    expect((JSON.parse(sent.text) as { groups?: { value: string }[] }).groups?.map((g) => g.value), sent.text).toEqual([big.group.id]);
    expectIndexedMemberLookups(explained, "a user's groups");
    expect(totalRowsRead(sent.worker), report(explained)).toBeLessThan(20);
  });
});

describe("group lookups in a tenant with 2,000 groups", () => {
  it('finds a group by displayName eq "…" and answers Entra\'s membership check reading a handful of rows, not every group of the tenant', async () => {
    const tenant = await createTenant();
    // Group g holds user g (support/seed.ts); 2,000 of each.
    const seeded = await seedUsers(env, tenant.id, { users: 2000, groups: 2000 });
    const fx: Fixture = { tenant, seeded, group: { id: seeded.groupId(1000), displayName: seeded.displayName(1000), meta: { version: "" } }, coordinator: countingEnv(env) };
    const lookups: [string, string, number][] = [
      [`displayName eq "${seeded.displayName(1000)}"`, "displayName lookup", 1],
      [`id eq "${seeded.groupId(1000)}" and members[value eq "${seeded.userId(1000)}"]`, "membership check, a member", 1],
      [`id eq "${seeded.groupId(1000)}" and members[value eq "${seeded.userId(999)}"]`, "membership check, a non-member", 0],
    ];
    for (const [filter, label, found] of lookups) {
      const sent = await measure(fx, "GET", `/Groups?excludedAttributes=members&filter=${encodeURIComponent(filter)}`);
      const explained = await explainAll(fx.tenant.id, sent.worker);
      const context = `${label}: ${filter}\n${report(explained)}`;
      expect(sent.status, sent.text).toBe(200);
      expect((JSON.parse(sent.text) as { totalResults: number }).totalResults, context).toBe(found);
      expectIndexedMemberLookups(explained, label);
      expect(totalRowsRead(sent.worker), context).toBeLessThan(20);
    }
  });
});

describe(`at most MAX_MEMBERS_PER_REQUEST (${MAX_MEMBERS_PER_REQUEST}) members per request`, () => {
  const over = MAX_MEMBERS_PER_REQUEST + 1;
  const requests: [string, (seeded: Seeded, groupId: string) => { method: string; path: string; json: unknown }][] = [
    [
      `a PATCH adding ${over} members (with a rename)`,
      (s, id) => ({ method: "PATCH", path: `/Groups/${id}`, json: patchBody([{ op: "replace", path: "displayName", value: "Renamed" }, addOp(userIds(s, 1, over))]) }),
    ],
    [`a PATCH replacing members with ${over}`, (s, id) => ({ method: "PATCH", path: `/Groups/${id}`, json: patchBody([{ op: "replace", path: "members", value: userIds(s, 1, over).map((value) => ({ value })) }]) })],
    [
      `a PATCH adding 5,000 and removing 5,001 (${over} named across ops)`,
      (s, id) => ({
        method: "PATCH",
        path: `/Groups/${id}`,
        json: patchBody([addOp(userIds(s, 1, 5000)), { op: "remove", path: "members", value: userIds(s, 5001, over).map((value) => ({ value })) }]),
      }),
    ],
    [`a PUT with ${over} members`, (s, id) => ({ method: "PUT", path: `/Groups/${id}`, json: { schemas: [GROUP], displayName: "Renamed", members: userIds(s, 1, over).map((value) => ({ value })) } })],
    [`a POST /Groups with ${over} members`, (s) => ({ method: "POST", path: "/Groups", json: { schemas: [GROUP], displayName: "Renamed", members: userIds(s, 1, over).map((value) => ({ value })) } })],
  ];

  it.each(requests)("answers 413 to %s (real users, a body under the size cap) and applies nothing", async (_label, build) => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: over });
    const created = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Capped", members: [] } });
    const group = await bodyOf<GroupJson>(created);
    expect(created.status, JSON.stringify(group)).toBe(201);
    const before = await storedGroup(tenant.id, group.id);
    const { method, path, json } = build(seeded, group.id);
    const text = JSON.stringify(json);
    expect(new TextEncoder().encode(text).byteLength, "the 413 must come from the member bound, not the body cap").toBeLessThan(MAX_BODY_BYTES);

    const error = await expectScimError(await scim(tenant, path, { method, body: text, headers: { "Content-Type": SCIM_JSON } }), 413);
    expect(error.detail, JSON.stringify(error)).toContain(String(MAX_MEMBERS_PER_REQUEST));

    expect(await storedGroup(tenant.id, group.id), "the group is untouched").toEqual(before);
    expect(before, JSON.stringify(before)).toMatchObject({ displayName: "Capped", memberCount: 0, rows: 0 });
    const counts = await (await shardOf(tenant.id)).prepare(
      `SELECT (SELECT count(*) FROM groups WHERE tenant_id = ?1) AS groups,
              (SELECT group_count FROM tenants WHERE id = ?1) AS groupCount,
              (SELECT count(*) FROM group_members WHERE tenant_id = ?1) AS memberships,
              (SELECT count(*) FROM events WHERE tenant_id = ?1 AND type LIKE 'group.%') AS groupEvents`,
    )
      .bind(tenant.id)
      .first<{ groups: number; groupCount: number; memberships: number; groupEvents: number }>();
    expect(counts, "no group, membership or group event was written").toEqual({ groups: 1, groupCount: 1, memberships: 0, groupEvents: 1 });
  });

  it(`accepts exactly ${MAX_MEMBERS_PER_REQUEST} members in one PATCH, every statement within D1's ${MAX_BOUND_PARAMETERS}-parameter limit`, async () => {
    const fx = await groupWithMembers(1, MAX_MEMBERS_PER_REQUEST, "Bulk");
    // User 1 is already the group's member: the event counts only the 9,999 real additions.
    const ids = userIds(fx.seeded, 1, MAX_MEMBERS_PER_REQUEST);
    const sent = await measure(fx, "PATCH", `/Groups/${fx.group.id}`, patchBody([addOp(ids)]));
    expect(sent.status, sent.text).toBe(204);
    const context = `${sent.coordinator.length} statements, at most ${Math.max(...sent.coordinator.map((s) => s.params.length))} parameters`;
    expect(Math.max(...sent.coordinator.map((s) => s.params.length)), context).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
    expect(sent.coordinator.length, context).toBeLessThanOrEqual(statementBudget(MAX_MEMBERS_PER_REQUEST));
    expect(await storedGroup(fx.tenant.id, fx.group.id)).toMatchObject({ memberCount: MAX_MEMBERS_PER_REQUEST, rows: MAX_MEMBERS_PER_REQUEST });
    const event = await (await shardOf(fx.tenant.id)).prepare("SELECT data FROM events WHERE tenant_id = ? AND type = 'group.members_changed'").bind(fx.tenant.id).first<{ data: string }>();
    expect(JSON.parse(event?.data ?? "null")).toEqual({ replacedAll: false, added: MAX_MEMBERS_PER_REQUEST - 1, removed: [] });

    // Re-sending 1,500 members with one newcomer: the event names the one real addition.
    const newcomer = fx.seeded.userId(MAX_MEMBERS_PER_REQUEST + 1);
    const resent = await measure(fx, "PATCH", `/Groups/${fx.group.id}`, patchBody([addOp([...userIds(fx.seeded, 1, 1500), newcomer])]));
    expect(resent.status, resent.text).toBe(204);
    const events = await (await shardOf(fx.tenant.id)).prepare("SELECT data FROM events WHERE tenant_id = ? AND type = 'group.members_changed' ORDER BY seq").bind(fx.tenant.id).all<{ data: string }>();
    expect(events.results.map((e) => JSON.parse(e.data) as unknown)[1]).toEqual({ replacedAll: false, added: [newcomer], removed: [] });
  });
});

interface ReadFully {
  status: number;
  etag: string | null;
  text: string;
  /** D1 round trips of the Worker, the body's own included (a large group's body reads as it streams). */
  roundTrips: number;
}

/** Sends a request and reads its whole body; every statement passes D1's production limits (send() and the reads after it). */
async function readFully(fx: Fixture, method: string, path: string, json?: unknown): Promise<ReadFully> {
  const measured = await measure(fx, method, path, json);
  expect(worker.violations, "every Worker statement within D1's production limits").toEqual([]);
  return { status: measured.status, etag: measured.etag, text: measured.text, roundTrips: worker.roundTrips.length };
}

function memberIdsOf(group: GroupJson | undefined): string[] {
  return (group?.members ?? []).map((m) => m.value);
}

describe("a 100,000-member group reads completely, every D1 value, row and result within the production limits", () => {
  // D1 refuses a string value over 2,000,000 bytes; the counting env refuses it too (support/d1-limits.ts).
  // 100,000 members as one json_group_array would be about 10 MB.
  it("a group of one page (5,000 members) reads in the one round trip of today, GET by id and list alike; 5,001 members take two", async () => {
    for (const [size, trips] of [[MEMBER_PAGE_ROWS, 1], [MEMBER_PAGE_ROWS + 1, 2]] as const) {
      const fx = await groupWithMembers(size, 0, `Page ${size}`);
      const one = await readFully(fx, "GET", `/Groups/${fx.group.id}`);
      expect(new Set(memberIdsOf(JSON.parse(one.text) as GroupJson)).size, `${size}`).toBe(size);
      expect(one.roundTrips, `GET /Groups/{id} of ${size}`).toBe(trips);
      const listed = await readFully(fx, "GET", "/Groups");
      const list = JSON.parse(listed.text) as { Resources: GroupJson[] };
      expect(new Set(memberIdsOf(list.Resources[0])).size, `${size}`).toBe(size);
      expect(listed.roundTrips, `GET /Groups with one group of ${size}`).toBe(trips);
    }
  });

  it(`refuses with 400 tooMany, before reading any member page, a response that would need more than ${MAX_MEMBER_PAGES_PER_RESPONSE} pages (D1's 1,000 queries per invocation)`, async () => {
    const fx = await groupWithMembers(MEMBER_PAGE_ROWS + 1, 0, "Huge");
    // As if the group had 5,000,000 members: the budget is decided from member_count.
    await (await shardOf(fx.tenant.id)).prepare("UPDATE groups SET member_count = ? WHERE tenant_id = ? AND id = ?").bind(5_000_000, fx.tenant.id, fx.group.id).run();
    for (const path of [`/Groups/${fx.group.id}`, "/Groups"]) {
      const sent = await send(worker, new Request(`${fx.tenant.baseUrl}${path}`, { headers: { Authorization: `Bearer ${fx.tenant.token}` } }));
      const error = await expectScimError(sent.response, 400, "tooMany");
      expect(error.detail, path).toContain("excludedAttributes=members");
      expect(worker.roundTrips.filter((t) => t.phase !== "background"), `${path}: only the first batch`).toHaveLength(1);
    }
    const excluded = await readFully(fx, "GET", `/Groups/${fx.group.id}?excludedAttributes=members`);
    expect(excluded.status).toBe(200);
  });

  it("GET /Groups/{id} of 25,000 members (about 2.5 MB of member JSON, which local D1 returns but D1 refuses) stays within the limits", async () => {
    const fx = await groupWithMembers(25_000, 0, "Quarter");
    const read = await readFully(fx, "GET", `/Groups/${fx.group.id}`);
    expect(read.status, read.text.slice(0, 500)).toBe(200);
    expect(new Set(memberIdsOf(JSON.parse(read.text) as GroupJson)).size).toBe(25_000);
    expect(read.roundTrips).toBe(5);
  });

  it("GET /Groups/{id} answers all 100,000 members, read in pages of 5,000: 20 D1 round trips, the first with the group", async () => {
    const big = await groupWithMembers(BIG, 0, "Everyone");
    const read = await readFully(big, "GET", `/Groups/${big.group.id}`);
    expect(read.status, read.text.slice(0, 500)).toBe(200);
    const body = JSON.parse(read.text) as GroupJson;
    const ids = memberIdsOf(body);
    expect(ids).toHaveLength(BIG);
    expect(new Set(ids)).toEqual(new Set(userIds(big.seeded, 1, BIG)));
    expect(body.meta.version).toBe(read.etag);
    expect(read.roundTrips, "ceil(100,000 / 5,000) round trips").toBe(Math.ceil(BIG / MEMBER_PAGE_ROWS));

    const projected = await readFully(big, "GET", `/Groups/${big.group.id}?attributes=members.value`);
    const values = JSON.parse(projected.text) as { displayName?: string; members: Record<string, unknown>[] };
    expect(values.members).toHaveLength(BIG);
    expect(values.members.every((m) => Object.keys(m).join() === "value"), "attributes=members.value projects every page").toBe(true);
    expect(values).not.toHaveProperty("displayName");
  });

  it("GET /Groups, attributes=members and POST /Groups/.search list the 100,000 members and the small groups beside it (ids before and after the big one) completely", async () => {
    const big = await groupWithMembers(BIG, 0, "Everyone");
    // Small groups whose ids sort before and after the big one's: the page's shared members
    // statement (ordered by group id) then covers a group before the cut, the cut itself, and
    // groups it never reached.
    const smallIds: string[] = [];
    for (let i = 1; i <= 40 && !(smallIds.some((id) => id < big.group.id) && smallIds.some((id) => id > big.group.id)); i++) {
      const small = await scim(big.tenant, "/Groups", {
        method: "POST",
        json: { schemas: [GROUP], displayName: `Few ${i}`, members: userIds(big.seeded, i, i + 2).map((value) => ({ value })) },
      });
      expect(small.status).toBe(201);
      smallIds.push((await bodyOf<GroupJson>(small)).id);
    }
    const requests: [string, string, string, unknown?][] = [
      ["GET /Groups", "GET", "/Groups"],
      ["GET /Groups?attributes=members", "GET", "/Groups?attributes=members,displayName"],
      ["GET /Groups?count=1&cursor=", "GET", "/Groups?count=1&cursor="],
      ["POST /Groups/.search", "POST", "/Groups/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'displayName sw "E"' }],
    ];
    for (const [label, method, path, json] of requests) {
      const read = await readFully(big, method, path, json);
      expect(read.status, `${label}: ${read.text.slice(0, 500)}`).toBe(200);
      const list = JSON.parse(read.text) as { totalResults: number; itemsPerPage: number; Resources: GroupJson[]; nextCursor?: string };
      const everyone = list.Resources.find((g) => g.displayName === "Everyone");
      expect(memberIdsOf(everyone), label).toHaveLength(BIG);
      expect(new Set(memberIdsOf(everyone)).size, label).toBe(BIG);
      expect(list.itemsPerPage, label).toBe(list.Resources.length);
      for (const few of list.Resources.filter((g) => g.displayName.startsWith("Few "))) {
        const i = Number(few.displayName.slice(4));
        expect(memberIdsOf(few).sort(), `${label}: ${few.displayName}`).toEqual(userIds(big.seeded, i, i + 2).sort());
      }
      if (!label.includes("cursor") && !label.includes("search")) expect(list.Resources, label).toHaveLength(smallIds.length + 1);
      if (label.includes("cursor")) expect(list.nextCursor, label).toEqual(expect.any(String));
    }
  });

  it("POST /Groups with 10,000 members answers all of them: the write's one batch reads back the first 5,000, the Worker the other 5,000", async () => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: MAX_MEMBERS_PER_REQUEST });
    const fx: Fixture = { tenant, seeded, group: { id: "", displayName: "", meta: { version: "" } }, coordinator: await recordCoordinator(tenant.id) };
    const ids = userIds(seeded, 1, MAX_MEMBERS_PER_REQUEST);
    const created = await measure(fx, "POST", "/Groups", { schemas: [GROUP], displayName: "Bulk", members: ids.map((value) => ({ value })) });
    expect(worker.violations).toEqual([]);
    expect(created.status, created.text.slice(0, 500)).toBe(201);
    const body = JSON.parse(created.text) as GroupJson;
    expect(new Set(memberIdsOf(body))).toEqual(new Set(ids));
    expect(created.etag).toBe(body.meta.version);
    expect(created.coordinatorRoundTrips, "the write and its read-back: one batch").toBe(1);
    expect(worker.roundTrips.filter((t) => t.phase !== "background"), "the Worker reads the second page").toHaveLength(1);
  });

  it("a PATCH answered with members (a rename and one add) commits and answers all 100,001: the write's batch reads back one page, the Worker the rest", async () => {
    const big = await groupWithMembers(BIG, 1, "Everyone");
    const newcomer = big.seeded.userId(BIG + 1);
    const sent = await readFully(
      big,
      "PATCH",
      `/Groups/${big.group.id}?attributes=members,displayName`,
      patchBody([{ op: "replace", path: "displayName", value: "Everyone 2" }, addOp([newcomer])]),
    );
    expect(sent.status, sent.text.slice(0, 500)).toBe(200);
    const body = JSON.parse(sent.text) as GroupJson;
    expect(body.displayName).toBe("Everyone 2");
    expect(memberIdsOf(body)).toHaveLength(BIG + 1);
    expect(memberIdsOf(body)).toContain(newcomer);
    expect(await storedGroup(big.tenant.id, big.group.id)).toMatchObject({ displayName: "Everyone 2", memberCount: BIG + 1, rows: BIG + 1 });
  });
});
