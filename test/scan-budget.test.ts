/**
 * Bounded D1 work per list request (issue 9, item 2). D1 runs one query at a time for every
 * tenant of the database, so a request's rows_read must not grow with its tenant: filters
 * that an index narrows read about the rows they return; a filter no index narrows (or a
 * sort) is answered for tenants of at most SCAN_BUDGET resources, and past that is refused
 * with 400 before it reads the tenant (src/storage/filter-cost.ts). rows_read is D1's own
 * count, recorded per statement by the counting proxy.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SCAN_BUDGET } from "../src/storage/scan-budget";
import { countingEnv, send, type Sent } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { type Seeded, seedUsers } from "./support/seed";
import { PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

const counting = countingEnv(env);
/** One past the budget: every scan on this tenant must be refused. */
const BIG = SCAN_BUDGET + 1;
/** What a narrowing request may read: its few rows, their groups and the tenant row. */
const NARROW_ROWS = 40;
/** What a refused request may read: the tenant row a few times, never a document. */
const REFUSED_ROWS = 10;

let big: TestTenant;
let bigSeeded: Seeded;

beforeAll(async () => {
  big = await createTenant();
  bigSeeded = await seedUsers(env, big.id, { users: BIG, groups: BIG });
});

function get(tenant: TestTenant, path: string): Promise<Sent> {
  return send(counting, new Request(`${tenant.baseUrl}${path}`, { headers: { Authorization: `Bearer ${tenant.token}` } }));
}

const list = (endpoint: string, filter: string, extra = "") => `/${endpoint}?filter=${encodeURIComponent(filter)}${extra}`;

function rowsRead(sent: Sent): number {
  return sent.statements.reduce((sum, s) => sum + (s.rowsRead ?? 0), 0);
}

function describeSent(sent: Sent): string {
  return sent.statements.map((s) => `rows_read=${s.rowsRead ?? "?"} ${s.sql.slice(0, 200)}`).join("\n");
}

describe(`a tenant of ${BIG.toLocaleString("en")} users and groups (past the scan budget)`, () => {
  it(`answers every narrowing filter on Users and Groups reading at most ${NARROW_ROWS} rows`, async () => {
    const s = bigSeeded;
    const shapes: [string, string, number][] = [
      ["Users", `userName eq "${s.userName(77).toUpperCase()}"`, 1],
      ["Users", `externalId eq "${s.externalId(78)}"`, 1],
      ["Users", `id eq "${s.userId(79)}"`, 1],
      ["Users", `emails.value eq "${s.workEmail(80)}"`, 1],
      ["Users", `emails eq "${s.homeEmail(80)}"`, 1],
      ["Users", `emails[type eq "work"].value eq "${s.workEmail(81)}"`, 1],
      ["Users", `emails[type eq "work" and value eq "${s.workEmail(82)}"]`, 1],
      ["Users", `userName eq "${s.userName(83)}" or userName eq "${s.userName(84)}"`, 2],
      ["Users", `userName eq "${s.userName(85)}" and (title co "x" or active eq true)`, 1],
      ["Users", `active eq true and externalId eq "${s.externalId(86)}"`, 1],
      ["Groups", `displayName eq "${s.displayName(90)}"`, 1],
      ["Groups", `externalId eq "nobody"`, 0],
      ["Groups", `id eq "${s.groupId(91)}"`, 1],
      ["Groups", `members[value eq "${s.userId(92)}"]`, 1],
      ["Groups", `members.value eq "${s.userId(93)}"`, 1],
    ];
    const failures: string[] = [];
    for (const [endpoint, filter, matches] of shapes) {
      const sent = await get(big, list(endpoint, filter, "&count=10"));
      const body = await bodyOf<ListJson<unknown>>(sent.response);
      const read = rowsRead(sent);
      if (sent.response.status !== 200 || body.totalResults !== matches || read > NARROW_ROWS) {
        failures.push(`${endpoint} ${filter}: ${sent.response.status}, totalResults ${body.totalResults}, rows_read ${read}\n${describeSent(sent)}`);
      }
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
  });

  it.each([
    ["Users", 'name.familyName eq "User"'],
    ["Users", 'title co "x"'],
    ["Users", "active eq true"],
    ["Users", 'userName co "user1"'],
    ["Users", 'userName sw "user"'],
    ["Users", 'not (userName eq "user1@example.com")'],
    ["Users", 'userName eq "user1@example.com" or title eq "x"'],
    ["Users", 'emails[value co "corp"]'],
    ["Users", 'emails[type eq "work" or value eq "x@y"]'],
    ["Users", 'emails.type eq "work"'],
    ["Users", "externalId pr"],
    ["Users", 'meta.lastModified gt "2000-01-01T00:00:00Z"'],
    ["Groups", 'displayName co "Group"'],
    ["Groups", "members pr"],
  ])("refuses %s?filter=%s with 400 invalidFilter, reading no documents", async (endpoint, filter) => {
    for (const extra of ["", "&count=0", "&cursor=", "&startIndex=5000&count=3"]) {
      const sent = await get(big, list(endpoint, filter, extra));
      const error = await expectScimError(sent.response, 400, "invalidFilter");
      expect(error.detail).toMatch(/scan/);
      expect(error.detail).toMatch(endpoint === "Users" ? /userName, emails\.value/ : /displayName, members\.value/);
      expect(rowsRead(sent), describeSent(sent)).toBeLessThanOrEqual(REFUSED_ROWS);
    }
  });

  it("refuses the same filter sent as POST /.search", async () => {
    const res = await scim(big, "/Users/.search", { method: "POST", json: { filter: 'name.givenName eq "Seeded"', count: 5 } });
    await expectScimError(res, 400, "invalidFilter");
  });

  it("refuses sortBy over the whole tenant with 400 invalidValue, but sorts the matches of a narrowing filter", async () => {
    for (const sortBy of ["name.familyName", "userName"]) {
      const sent = await get(big, `/Users?sortBy=${sortBy}&count=5`);
      await expectScimError(sent.response, 400, "invalidValue");
      expect(rowsRead(sent), describeSent(sent)).toBeLessThanOrEqual(REFUSED_ROWS);
    }
    const narrowed = await get(big, list("Users", `userName eq "${bigSeeded.userName(3)}" or userName eq "${bigSeeded.userName(2)}"`, "&sortBy=userName"));
    const body = await bodyOf<ListJson<{ userName: string }>>(narrowed.response);
    expect(narrowed.response.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(body.Resources.map((r) => r.userName)).toEqual([bigSeeded.userName(2), bigSeeded.userName(3)]);
  });
});

describe("the scan budget weighs document size", () => {
  async function docChars(tenantId: string): Promise<{ counter: number; truth: number }> {
    const row = await (await shardOf(tenantId)).prepare(
      "SELECT user_doc_chars AS counter, (SELECT coalesce(sum(length(doc)), 0) FROM users WHERE tenant_id = tenants.id) AS truth FROM tenants WHERE id = ?",
    )
      .bind(tenantId)
      .first<{ counter: number; truth: number }>();
    if (!row) throw new Error("tenant row missing");
    return row;
  }

  it("keeps tenants.user_doc_chars equal to the sum of the tenant's documents through create, replace, patch and delete", async () => {
    const tenant = await createTenant();
    const created = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "size@example.com", title: "x".repeat(5000) } });
    const { id } = await bodyOf<{ id: string }>(created);
    expect(created.status).toBe(201);
    const afterCreate = await docChars(tenant.id);
    expect(afterCreate.counter).toBeGreaterThan(5000);
    expect(afterCreate.counter).toBe(afterCreate.truth);

    const put = await scim(tenant, `/Users/${id}`, { method: "PUT", json: { schemas: [USER], userName: "size@example.com", title: "y".repeat(20_000) } });
    expect(put.status, await put.text()).toBe(200);
    const afterPut = await docChars(tenant.id);
    expect(afterPut.counter).toBe(afterPut.truth);
    expect(afterPut.counter).toBeGreaterThan(20_000);

    const patched = await scim(tenant, `/Users/${id}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "short" }] } });
    expect(patched.status, await patched.text()).toBe(200);
    const afterPatch = await docChars(tenant.id);
    expect(afterPatch.counter).toBe(afterPatch.truth);
    expect(afterPatch.counter).toBeLessThan(1000);

    expect((await scim(tenant, `/Users/${id}`, { method: "DELETE" })).status).toBe(204);
    expect(await docChars(tenant.id)).toEqual({ counter: 0, truth: 0 });
  });

  it("answers one term over 40 users of 500 KB, and refuses 26 terms (26 × 20 MB of documents) with 400 before reading them", async () => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: 40 });
    const big = "z".repeat(500_000);
    for (let i = 1; i <= 40; i++) {
      const res = await scim(tenant, `/Users/${seeded.userId(i)}`, {
        method: "PATCH",
        json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: `${i}:${big}` }] },
      });
      expect(res.status).toBe(200);
    }
    const size = await docChars(tenant.id);
    expect(size.counter).toBe(size.truth);
    expect(size.counter).toBeGreaterThan(20_000_000);

    const one = await get(tenant, list("Users", 'emails[value co "home3"]', "&attributes=id"));
    const body = await bodyOf<ListJson<{ id: string }>>(one.response);
    expect(one.response.status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(body.totalResults).toBe(11); // home3, home30 … home39

    const terms = Array.from({ length: 26 }, (_, i) => `emails[value co "nobody${i}"]`).join(" or ");
    const many = await get(tenant, list("Users", terms, "&attributes=id"));
    const error = await expectScimError(many.response, 400, "invalidFilter");
    expect(error.detail).toMatch(/MB of documents/);
    expect(rowsRead(many), describeSent(many)).toBeLessThanOrEqual(REFUSED_ROWS);
  });
});

describe("an equality on a non-unique index (externalId, emails, members) narrows only up to the scan budget", () => {
  const SHARED = SCAN_BUDGET + 2_000;
  let shared: TestTenant;
  let sharedSeeded: Seeded;

  beforeAll(async () => {
    shared = await createTenant();
    sharedSeeded = await seedUsers(env, shared.id, { users: SHARED });
    // externalId is not unique: users 1..SHARED - 3 share one value, the last 3 share another.
    await (await shardOf(shared.id)).prepare(
      "UPDATE users SET external_id = CASE WHEN seq > (SELECT max(seq) - 3 FROM users WHERE tenant_id = ?1) THEN 'few' ELSE 'same' END WHERE tenant_id = ?1",
    )
      .bind(shared.id)
      .run();
    await (await shardOf(shared.id)).prepare("UPDATE users SET doc = json_set(doc, '$.externalId', external_id) WHERE tenant_id = ?").bind(shared.id).run();
  });

  it(`refuses a filter whose externalId is shared by ${SHARED - 3} users with 400 invalidFilter, reading at most the budget's index entries`, async () => {
    const shapes: [string, string][] = [
      ['externalId eq "same" and title co "zz" and nickName co "zz"', ""],
      ['externalId eq "same" and active eq false', ""],
      ['externalId eq "same"', "&sortBy=name.familyName"],
    ];
    for (const [filter, sort] of shapes) {
      for (const extra of ["", "&count=0", "&cursor="].filter((e) => !(sort && e === "&cursor="))) {
        const sent = await get(shared, list("Users", filter, `${extra}${sort}`));
        const error = await expectScimError(sent.response, 400, "invalidFilter");
        expect(error.detail).toMatch(/share its indexed value/);
        // The index matches are counted up to SCAN_BUDGET + 1 once per statement (page, count); no document is read.
        expect(rowsRead(sent), `${filter}${extra}\n${describeSent(sent)}`).toBeLessThanOrEqual(2 * (SCAN_BUDGET + 1) + REFUSED_ROWS);
      }
    }
  });

  it("answers a filter whose externalId a few users share, reading about those users", async () => {
    const few = [SHARED - 2, SHARED - 1, SHARED].map((i) => sharedSeeded.userId(i));
    for (const shape of [
      ['externalId eq "few"', few],
      ['externalId eq "few" and title co "zz" and nickName co "zz"', []],
      [`externalId eq "few" and emails.value eq "${sharedSeeded.workEmail(SHARED)}"`, few.slice(2)],
      ['externalId eq "few"', few, "&sortBy=name.familyName"],
    ] as const satisfies readonly (readonly [string, readonly string[], string?])[]) {
      const [filter, matches, extra = "&count=10"] = shape;
      const sent = await get(shared, list("Users", filter, extra));
      const body = await bodyOf<ListJson<{ id: string }>>(sent.response);
      expect(sent.response.status, JSON.stringify(body).slice(0, 300)).toBe(200);
      expect(body.totalResults, filter).toBe(matches.length);
      expect((body.Resources ?? []).map((r) => r.id), filter).toEqual([...matches]);
      expect(rowsRead(sent), `${filter}\n${describeSent(sent)}`).toBeLessThanOrEqual(NARROW_ROWS);
    }
  });
});
