/**
 * Query plans at scale (issue: performance): with 10,000 users in one tenant, the hot queries
 * the server actually runs (captured from real requests through the counting D1 proxy, then
 * put through EXPLAIN QUERY PLAN with the same parameters) reach users through an index that
 * narrows them to the rows asked for, never by scanning the table or the whole tenant. A
 * second tenant holds users with the same userNames, externalIds and emails, so an index that
 * ignored tenant_id would show up as extra rows and wrong answers.
 *
 * Plans are checked twice: on a fresh database (no sqlite_stat1: SQLite's defaults assume the
 * first column of every index is very selective, which tenant_id is not) and after ANALYZE
 * (what D1 recommends via PRAGMA optimize). The server must be right in both: nothing
 * guarantees a deployment ever ran ANALYZE.
 *
 * rows_read (D1's own metric, what it bills) backs the plans up: a plan can say SEARCH and
 * still walk the whole tenant through its tenant_id prefix.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../src/storage/listing";
import { countingEnv, MAX_BOUND_PARAMETERS, send, type Sent, type StatementRecord } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { createTenant, type TestTenant } from "./support/http";
import { type Seeded, seedUsers } from "./support/seed";
import { shardNameOf, shardOf } from "./support/shards";

const USERS = 10_000;
/** The user the point lookups look for: it also exists (same names) in the other tenant. */
const TARGET = 250;

const counting = countingEnv(env);
let tenant: TestTenant;
let seeded: Seeded;
let otherSeeded: Seeded;

function get(path: string): Promise<Sent> {
  return send(counting, new Request(`${tenant.baseUrl}${path}`, { headers: { Authorization: `Bearer ${tenant.token}` } }));
}

const filter = (expression: string, extra = "") => `/Users?filter=${encodeURIComponent(expression)}${extra}`;

/** `SEARCH <table> USING [COVERING ]INDEX <index> (<constraints>)`, exactly. */
function search(table: string, index: string, constraints: string): RegExp {
  const escaped = constraints.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^SEARCH ${table} USING (COVERING )?INDEX ${index} \\(${escaped}\\)$`);
}

interface Hot {
  name: string;
  path: () => string;
  /** Every plan line that reads `users` must match one of these. */
  users: RegExp[];
  /** Other lines that must appear in some statement's plan. */
  alsoUses?: RegExp[];
  /** The most rows D1 may read for the whole request (a tenant scan reads ≥ 10,000). */
  rowsBudget: number;
  /** Whether the request returns users with their groups (the correlated subquery). */
  withGroups: boolean;
  /** An unfiltered page must come in index order, not from sorting the tenant. */
  noSort?: boolean;
  check?: (body: ListOrUser) => void;
}

interface ListOrUser {
  id?: string;
  totalResults?: number;
  Resources?: { id: string }[];
  groups?: { value: string }[];
}

const POINT_BUDGET = 20;
/** 100 users, each with its membership and group rows, plus the tenant row. */
const PAGE_BUDGET = 1_000;

const byId = search("users", "users_tenant_id", "tenant_id=? AND id=?");
const MEMBERS_BY_USER = search("(group_members|direct|parent)", "group_members_member", "tenant_id=? AND member_id=?");
const GROUP_BY_ID = search("(groups|member_group)", "groups_tenant_id", "tenant_id=? AND id=?");

function onlyTarget(body: ListOrUser): void {
  expect(body.totalResults, JSON.stringify(body).slice(0, 500)).toBe(1);
  expect(body.Resources?.map((r) => r.id)).toEqual([seeded.userId(TARGET)]);
}

const HOT: Hot[] = [
  {
    name: "GET /Users/{id}",
    path: () => `/Users/${seeded.userId(TARGET)}`,
    users: [byId],
    rowsBudget: POINT_BUDGET,
    withGroups: true,
    check: (body) => {
      expect(body.id).toBe(seeded.userId(TARGET));
      expect(body.groups?.map((g) => g.value)).toEqual([seeded.groupId(seeded.groupOf(TARGET) ?? 0)]);
    },
  },
  {
    name: "filter userName eq",
    path: () => filter(`userName eq "${seeded.userName(TARGET).toUpperCase()}"`),
    users: [search("users", "users_tenant_user_name", "tenant_id=? AND user_name_key=?")],
    rowsBudget: POINT_BUDGET,
    withGroups: true,
    check: onlyTarget,
  },
  {
    name: "filter externalId eq",
    path: () => filter(`externalId eq "${seeded.externalId(TARGET)}"`),
    users: [search("users", "users_tenant_external_id", "tenant_id=? AND external_id=?")],
    rowsBudget: POINT_BUDGET,
    withGroups: true,
    check: onlyTarget,
  },
  {
    name: 'filter emails[type eq "work"].value eq',
    path: () => filter(`emails[type eq "work"].value eq "${seeded.workEmail(TARGET)}"`),
    // The email index yields user ids (or seqs); any unique-key lookup of those rows will do.
    users: [byId, search("users", "users_tenant_seq", "tenant_id=? AND seq=?"), /^SEARCH users USING INTEGER PRIMARY KEY \(rowid=\?\)$/],
    alsoUses: [search("user_emails", "sqlite_autoindex_user_emails_1", "tenant_id=? AND value_key=?")],
    // An email is not unique and `type eq` reads the document: the page and the count also count
    // the email's index matches for the scan budget (storage/scan-budget.ts), a few rows each.
    rowsBudget: POINT_BUDGET + 20,
    withGroups: true,
    check: onlyTarget,
  },
  {
    name: "list page count=100 (index paging)",
    path: () => "/Users?count=100",
    users: [search("users", "users_tenant_seq", "tenant_id=?")],
    rowsBudget: PAGE_BUDGET,
    withGroups: true,
    noSort: true,
    check: (body) => expect(body.Resources?.[0]?.id).toBe(seeded.userId(1)),
  },
  {
    name: "list page count=100 (first cursor page)",
    path: () => "/Users?count=100&cursor=",
    users: [search("users", "users_tenant_seq", "tenant_id=? AND seq>?")],
    rowsBudget: PAGE_BUDGET,
    withGroups: true,
    noSort: true,
  },
  {
    name: "list page count=100 (cursor page in the middle)",
    path: () => `/Users?count=100&cursor=${middleCursor}`,
    users: [search("users", "users_tenant_seq", "tenant_id=? AND seq>?")],
    rowsBudget: PAGE_BUDGET,
    withGroups: true,
    noSort: true,
    check: (body) => expect(body.Resources?.[0]?.id).toBe(seeded.userId(5_001)),
  },
];

let middleCursor = "";

interface Captured {
  hot: Hot;
  sent: Sent;
  body: ListOrUser;
}

const captured: Captured[] = [];

beforeAll(async () => {
  tenant = await createTenant();
  seeded = await seedUsers(env, tenant.id, { users: USERS, groups: 50 });
  // On the same shard: its rows with the same names must be in the indexes the plans narrow.
  const other = await createTenant({ shard: tenant.shard });
  otherSeeded = await seedUsers(env, other.id, { users: 500, groups: 5 });
  const row = await (await shardOf(tenant.id)).prepare("SELECT seq FROM users WHERE tenant_id = ? AND id = ?").bind(tenant.id, seeded.userId(5_000)).first<{ seq: number }>();
  if (!row) throw new Error("seeded user 5000 is missing");
  middleCursor = encodeCursor(row.seq);
  for (const hot of HOT) {
    const sent = await get(hot.path());
    const body = await sent.response.json<ListOrUser>();
    if (sent.response.status !== 200) throw new Error(`${hot.name}: ${sent.response.status} ${JSON.stringify(body)}`);
    captured.push({ hot, sent, body });
  }
});

interface Explained {
  statement: StatementRecord;
  plan: string[];
  /** The plan's lines that sort the statement's own rows, not a correlated subquery's (a user's groups). */
  outerSorts: string[];
  rowsRead: number;
}

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

/**
 * Sorts outside every correlated subquery. A user's `groups` subquery sorts its own nesting
 * walk (at most NESTING_WALK_ROWS rows, storage/group-nesting.ts) per user, never the tenant.
 */
function outerSortsOf(rows: readonly PlanRow[]): string[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const correlated = (row: PlanRow): boolean => {
    for (let r: PlanRow | undefined = row; r; r = byId.get(r.parent)) if (r.detail.startsWith("CORRELATED")) return true;
    return false;
  };
  return rows.filter((r) => /TEMP B-TREE/.test(r.detail) && !correlated(r)).map((r) => r.detail);
}

/** EXPLAIN QUERY PLAN, then the statement itself for D1's rows_read (all hot statements are reads). */
async function explain(statement: StatementRecord): Promise<Explained> {
  const plan = await (await shardOf(tenant.id)).prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
    .bind(...statement.params)
    .all<PlanRow>();
  const run = await (await shardOf(tenant.id)).prepare(statement.sql).bind(...statement.params).all();
  return { statement, plan: plan.results.map((r) => r.detail), outerSorts: outerSortsOf(plan.results), rowsRead: run.meta.rows_read };
}

function describePlans(explained: Explained[]): string {
  return explained
    .map((e) => `${e.statement.sql.slice(0, 160)}…\n  rows_read=${e.rowsRead}\n  ${e.plan.join("\n  ")}`)
    .join("\n");
}

/**
 * A SCAN is a full pass over its source. Allowed: json_each over one user's document (a
 * virtual table: the `emails` elements of a row already found), SQLite's one-row constant, and
 * the rows of a subquery or of the scan budget's one-row tables (storage/scan-budget.ts:
 * `shared_matches`, `counted`), whose own reads are listed and checked as separate lines, and
 * `listed`, a user's groups already cut to USER_GROUPS_LISTED rows by their own LIMIT, and
 * `reach`/`walk`, the nesting walk's own rows (storage/group-nesting.ts, at most NESTING_WALK_ROWS).
 */
function isTableScan(line: string): boolean {
  return /^SCAN /.test(line) && !/VIRTUAL TABLE/.test(line) && !/^SCAN (CONSTANT ROW|\(subquery-\d+\)|shared_matches$|counted$|listed\b|reach$|walk$)/.test(line);
}

function planChecks(label: string) {
  describe(`query plans at ${USERS.toLocaleString("en")} users (${label})`, () => {
    const explainedFor = new Map<string, Explained[]>();
    beforeAll(async () => {
      if (label.startsWith("after")) await (await shardOf(tenant.id)).prepare("ANALYZE").run();
      for (const { hot, sent } of captured) {
        explainedFor.set(hot.name, await Promise.all(sent.statements.map(explain)));
      }
    });
    const plansOf = (hot: Hot) => {
      const explained = explainedFor.get(hot.name);
      if (!explained) throw new Error(`no plans for ${hot.name}`);
      return explained;
    };

    it.each(HOT.map((h) => [h.name, h] as const))("%s: no statement scans a table", (_name, hot) => {
      const explained = plansOf(hot);
      const scans = explained.flatMap((e) => e.plan.filter(isTableScan));
      expect(scans, describePlans(explained)).toEqual([]);
    });

    it.each(HOT.map((h) => [h.name, h] as const))("%s: reaches users through the index that narrows to the rows asked for", (_name, hot) => {
      const explained = plansOf(hot);
      const userLines = explained.flatMap((e) => e.plan.filter((line) => /^(SEARCH|SCAN) users\b/.test(line)));
      const context = `expected ${hot.users.join(" or ")}\n${describePlans(explained)}`;
      expect(userLines.length, context).toBeGreaterThan(0);
      for (const line of userLines) expect(hot.users.some((p) => p.test(line)), `${line}\n${context}`).toBe(true);
      const lines = explained.flatMap((e) => e.plan);
      for (const needed of hot.alsoUses ?? []) expect(lines.some((l) => needed.test(l)), `${needed}\n${context}`).toBe(true);
      if (hot.noSort) expect(explained.flatMap((e) => e.outerSorts), `an unfiltered page must not sort the tenant\n${context}`).toEqual([]);
    });

    it.each(HOT.filter((h) => h.withGroups).map((h) => [h.name, h] as const))(
      "%s: reads each user's groups through group_members_member, one user at a time",
      (_name, hot) => {
        const explained = plansOf(hot);
        const lines = explained.flatMap((e) => e.plan);
        const context = describePlans(explained);
        // Under their own names in the nesting walk (storage/group-nesting.ts) and the listing (users.ts).
        const memberLines = lines.filter((l) => /^(SEARCH|SCAN) (group_members|direct|parent)\b/.test(l));
        const groupLines = lines.filter((l) => /^(SEARCH|SCAN) (groups|member_group)\b/.test(l));
        expect(memberLines.length, context).toBeGreaterThan(0);
        for (const line of memberLines) expect(line, context).toMatch(MEMBERS_BY_USER);
        for (const line of groupLines) expect(line, context).toMatch(GROUP_BY_ID);
      },
    );

    it.each(HOT.map((h) => [h.name, h] as const))("%s: reads a bounded number of rows, not the tenant", (_name, hot) => {
      const explained = plansOf(hot);
      const rowsRead = explained.reduce((sum, e) => sum + e.rowsRead, 0);
      expect(rowsRead, `rows_read ${rowsRead} > ${hot.rowsBudget}\n${describePlans(explained)}`).toBeLessThanOrEqual(hot.rowsBudget);
    });
  });
}

describe("hot queries at 10,000 users answer correctly across tenants", () => {
  it.each(HOT.filter((h) => h.check).map((h) => [h.name, h] as const))("%s returns the right rows of this tenant only", (_name, hot) => {
    const found = captured.find((c) => c.hot === hot);
    expect(found).toBeDefined();
    hot.check?.(found?.body ?? {});
  });

  it("the other tenant really has the same userName, externalId and email (so tenant_id must narrow)", async () => {
    expect(await shardNameOf(otherSeeded.tenantId)).toBe(tenant.shard);
    const row = await (await shardOf(tenant.id)).prepare(
      "SELECT count(*) AS n FROM users WHERE tenant_id = ? AND user_name_key = ? AND external_id = ?",
    )
      .bind(otherSeeded.tenantId, seeded.userName(TARGET), seeded.externalId(TARGET))
      .first<{ n: number }>();
    expect(row?.n).toBe(1);
  });
});

planChecks("fresh database, no statistics");
planChecks("after ANALYZE");

describe("bound parameters at 10,000 users", () => {
  it.each(HOT.map((h) => [h.name, h] as const))("%s: every statement binds at most 100 parameters", (_name, hot) => {
    const found = captured.find((c) => c.hot === hot);
    const statements = found?.sent.statements ?? [];
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expect(s.params.length, s.sql).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
  });

  it("refuses a filter of 120 or'ed terms with 400 invalidFilter instead of binding them", async () => {
    const terms = Array.from({ length: 120 }, (_, i) => `userName eq "${seeded.userName(i + 1)}"`).join(" or ");
    const sent = await get(filter(terms));
    await expectScimError(sent.response, 400, "invalidFilter");
    expect(sent.before.maxParameters, JSON.stringify(sent.before)).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
  });

  // Every filter the compiler accepts must fit one statement with the tenant id and paging.
  // JSON paths are bound values too (json_extract(doc, ?)), so the shapes below differ in how
  // many parameters each term really binds.
  it.each([
    ["80 × userName eq", 80, (i: number) => `userName eq "${seeded.userName(i)}"`],
    ["70 × name.givenName eq (a JSON path per term)", 70, (i: number) => `name.givenName eq "g${i}"`],
    ["40 × title co (a JSON path per term)", 40, (i: number) => `title co "t${i}"`],
    ['20 × emails[type eq "work"].value eq (index pre-filter + JSON paths)', 20, (i: number) => `emails[type eq "work"].value eq "${seeded.workEmail(i)}"`],
    ["30 × meta.lastModified gt", 30, () => `meta.lastModified gt "2020-01-01T00:00:00Z"`],
  ] as const)("a filter of %s is either answered within 100 parameters or refused as invalidFilter", async (_name, count, term) => {
    const terms = Array.from({ length: count }, (_, i) => term(i + 1)).join(" or ");
    const sent = await get(filter(terms, "&count=5"));
    const context = `${sent.response.status}; max bound ${sent.before.maxParameters}; ${JSON.stringify(sent.before)}`;
    if (sent.response.status === 400) {
      await expectScimError(sent.response, 400, "invalidFilter");
    } else {
      expect(sent.response.status, context).toBe(200);
    }
    expect(sent.before.maxParameters, context).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
  });
});
