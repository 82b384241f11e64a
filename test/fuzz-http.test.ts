/**
 * Property test over HTTP (issue 9, item 4): random filters, PATCH bodies, resource bodies and
 * JSON shapes against /Users and /Groups (list with filter, .search, POST, PUT, PATCH), the
 * root search and /Bulk, the way an IdP calls. Every answer must be below 500; every error an RFC 7644 §3.12 body whose
 * `status` is the HTTP status as a string; and an error must change nothing: the tenant's
 * users, groups, memberships, counters and event feed are the same after it as before.
 *
 * Seeded and reproducible: FUZZ_SEED=<n> npx vitest run --project workers test/fuzz-http.test.ts
 * (vitest.config.ts passes it in). About 11,000 requests per run.
 */
import fc from "fast-check";
import { describe, expect, inject, it } from "vitest";
import {
  boundFilter,
  bulkBody,
  contentType,
  filter,
  GROUP_ID,
  idInPath,
  listParameters,
  encodeQueryValue,
  mostly,
  patchBody,
  resourceBody,
  searchBody,
  shape,
  USER_ID,
  wrap,
  type Wrapping,
} from "./support/fuzz-arbitraries";
import { call, createTenant, scim, type TestTenant } from "./support/http";
import { GROUP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

declare module "vitest" {
  interface ProvidedContext {
    /** FUZZ_SEED from the environment, "" when unset (vitest.config.ts). */
    fuzzSeed: string;
  }
}

const DEFAULT_SEED = 20_261_201;
const SEED = Number.isSafeInteger(Number.parseInt(inject("fuzzSeed"), 10)) ? Number.parseInt(inject("fuzzSeed"), 10) : DEFAULT_SEED;

const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
const SCIM_TYPES = new Set(["invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax", "invalidPath", "noTarget", "invalidValue", "invalidVers", "sensitive", "invalidCursor"]);
/** Below the tests' budget of 300 requests a minute per tenant (vitest.config.ts), fixtures included. */
const REQUESTS_PER_TENANT = 250;

interface FuzzRequest {
  method: "GET" | "POST" | "PUT" | "PATCH";
  /** Sent to a tenant that never had a user or group (reads only). */
  toEmptyTenant?: boolean;
  /** Below the tenant's base URL; USER_ID / GROUP_ID stand for the fixtures. */
  path: string;
  body?: string;
  contentType?: string;
}

const RESOURCES = [
  { endpoint: "Users", schema: USER },
  { endpoint: "Groups", schema: GROUP },
] as const;

/** Reads that failed are checked in windows of this many: a read never changes anything. */
const READ_WINDOW = 25;

/**
 * One tenant with a user (with emails) in a group, replaced before the rate limit is reached;
 * reads marked `toEmptyTenant` go to a second one that never had a user or group.
 */
class Session {
  private readonly empty: Session | undefined;
  private tenant: TestTenant | undefined;
  private userId = "";
  private groupId = "";
  private used = 0;
  /** The tenant's state after the last write (or fixture), while nothing has changed it since. */
  private baseline: string | undefined;
  /** Failed reads since the baseline, not yet checked against it. */
  private unchecked: string[] = [];
  private sent = 0;

  constructor(private readonly withFixtures = true) {
    this.empty = withFixtures ? new Session(false) : undefined;
  }

  get requests(): number {
    return this.sent + (this.empty?.requests ?? 0);
  }

  async send(request: FuzzRequest): Promise<void> {
    if (request.toEmptyTenant && this.empty) return this.empty.send({ ...request, toEmptyTenant: false });
    const tenant = await this.ready();
    const mutates = request.method !== "GET" && !request.path.includes("/.search");
    // A write may succeed and change the tenant: check the reads before it first.
    if (mutates) await this.checkReads();
    const before = this.baseline ?? (await fingerprint(tenant.id));
    const fill = (s: string) => s.replaceAll(USER_ID, this.userId).replaceAll(GROUP_ID, this.groupId);
    const headers = new Headers({ Authorization: `Bearer ${tenant.token}` });
    if (request.contentType !== undefined) headers.set("Content-Type", request.contentType);
    const res = await call(`${tenant.baseUrl}${fill(request.path)}`, { method: request.method, headers, body: request.body === undefined ? undefined : fill(request.body) });
    this.used += 1;
    this.sent += 1;
    const text = await res.text();
    const context = `FUZZ_SEED=${SEED}: ${request.method} ${request.path.slice(0, 300)} ${request.body?.slice(0, 300) ?? ""} → ${res.status} ${text.slice(0, 400)}`;
    expect(res.status, context).toBeLessThan(500);
    expect(res.status, `${context} (the fuzz spent a tenant's rate budget)`).not.toBe(429);
    if (res.status < 400) {
      if (text !== "") expectWithinValueCap(parseJson(text, context), context);
      if (request.path === "/Bulk") expectBulkResults(parseJson(text, context), context);
      this.baseline = mutates ? undefined : before; // a write that succeeded may change the tenant
      return;
    }
    expect(res.headers.get("Content-Type"), context).toMatch(/^application\/scim\+json/);
    const body = parseJson(text, context) as { schemas?: unknown; status?: unknown; scimType?: unknown; detail?: unknown };
    expect(body.schemas, context).toEqual([ERROR_SCHEMA]);
    expect(body.status, context).toBe(String(res.status));
    expect(typeof body.detail === "string" && body.detail.length > 0, context).toBe(true);
    if (body.scimType !== undefined) expect(typeof body.scimType === "string" && SCIM_TYPES.has(body.scimType), context).toBe(true);
    this.baseline = before;
    if (!mutates) {
      this.unchecked.push(context);
      if (this.unchecked.length >= READ_WINDOW) await this.checkReads();
      return;
    }
    expect(await fingerprint(tenant.id), `${context}: the error changed stored data`).toBe(before);
  }

  /** The failed reads since the baseline changed nothing. */
  async checkReads(): Promise<void> {
    await this.empty?.checkReads();
    if (this.unchecked.length === 0 || !this.tenant || this.baseline === undefined) return;
    const now = await fingerprint(this.tenant.id);
    expect(now, `one of these failed reads changed stored data:\n${this.unchecked.join("\n")}`).toBe(this.baseline);
    this.unchecked = [];
  }

  private async ready(): Promise<TestTenant> {
    if (this.tenant && this.used < REQUESTS_PER_TENANT) return this.tenant;
    await this.checkReads();
    const tenant = await createTenant();
    this.used = 0;
    this.baseline = undefined;
    if (!this.withFixtures) return (this.tenant = tenant);
    const user = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "fixture@example.com", emails: [{ value: "fixture@example.com", type: "work", primary: true }] } });
    const group = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Fixture" } });
    expect([user.status, group.status]).toEqual([201, 201]);
    this.userId = (await user.json<{ id: string }>()).id;
    this.groupId = (await group.json<{ id: string }>()).id;
    const member = await scim(tenant, `/Groups/${this.groupId}`, { method: "PATCH", json: { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: this.userId }] }] } });
    expect(member.status).toBe(204);
    this.tenant = tenant;
    this.used = 3;
    this.baseline = undefined;
    return tenant;
  }
}

function parseJson(text: string, context: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${context}: the body is not JSON`);
  }
}

/** A resource (or each of a list's) holds at most 1,000 values per multi-valued attribute; group members aside. */
function expectWithinValueCap(json: unknown, context: string): void {
  const page = json as { Resources?: unknown };
  const resources = Array.isArray(page.Resources) ? (page.Resources as unknown[]) : [json];
  for (const resource of resources) {
    for (const [name, value] of Object.entries(resource as Record<string, unknown>)) {
      if (Array.isArray(value) && name !== "members") expect(value.length, `${context}: ${name}`).toBeLessThanOrEqual(1000);
    }
  }
}

/** Each operation of a Bulk answer is below 500, and a failed one carries an RFC 7644 §3.12 body. */
function expectBulkResults(json: unknown, context: string): void {
  const results = (json as { Operations?: unknown }).Operations;
  expect(Array.isArray(results), context).toBe(true);
  for (const result of results as { status?: unknown; response?: { schemas?: unknown; status?: unknown } }[]) {
    expect(Number(result.status), context).toBeLessThan(500);
    if (Number(result.status) >= 400) {
      expect(result.response?.schemas, context).toEqual([ERROR_SCHEMA]);
      expect(result.response?.status, context).toBe(result.status);
    }
  }
}

/** Everything a SCIM request can change for the tenant, in one D1 read. */
async function fingerprint(tenantId: string): Promise<string> {
  const row = await (await shardOf(tenantId)).prepare(
    `SELECT
       (SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(sum(length(doc)), 0) FROM users WHERE tenant_id = ?1) AS users,
       (SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(sum(length(doc)), 0) FROM groups WHERE tenant_id = ?1) AS groups,
       (SELECT count(*) FROM group_members WHERE tenant_id = ?1) AS members,
       (SELECT count(*) FROM user_emails WHERE tenant_id = ?1) AS emails,
       (SELECT count(*) || ':' || coalesce(max(seq), 0) FROM events WHERE tenant_id = ?1) AS events,
       (SELECT user_count || ':' || group_count FROM tenants WHERE id = ?1) AS counters`,
  )
    .bind(tenantId)
    .first();
  return JSON.stringify(row);
}

const resource = fc.constantFrom(...RESOURCES);
const listRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .tuple(resource, mostly(filter), mostly(listParameters, 3), fc.boolean())
      .map(([r, f, params, empty]): FuzzRequest => ({
        method: "GET",
        path: `/${r.endpoint}?${f === undefined ? "" : `filter=${encodeQueryValue(f)}`}${params ?? ""}`,
        toEmptyTenant: empty && f === undefined,
      })),
  },
  // Plain startIndex paging, as Okta imports, where nothing was ever created.
  {
    weight: 1,
    arbitrary: fc
      .tuple(resource, fc.integer({ min: -2, max: 5000 }), fc.integer({ min: 0, max: 200 }))
      .map(([r, startIndex, count]): FuzzRequest => ({ method: "GET", path: `/${r.endpoint}?startIndex=${startIndex}&count=${count}`, toEmptyTenant: true })),
  },
);
const searchRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(resource, searchBody, contentType)
  .map(([r, body, type]) => ({ method: "POST", path: `/${r.endpoint}/.search`, body, contentType: type }));
const boundRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(resource, boundFilter, fc.boolean())
  .map(([r, f, viaSearch]) =>
    viaSearch
      ? { method: "POST", path: `/${r.endpoint}/.search`, body: JSON.stringify({ filter: f }), contentType: "application/scim+json" }
      : { method: "GET", path: `/${r.endpoint}?filter=${encodeQueryValue(f)}` },
  );
function writeRequest(endpoint: "Users" | "Groups"): fc.Arbitrary<FuzzRequest> {
  const schema = endpoint === "Users" ? USER : GROUP;
  const id = idInPath.map((i) => (i === USER_ID || i === GROUP_ID ? (endpoint === "Users" ? USER_ID : GROUP_ID) : i));
  return fc.oneof(
    fc.tuple(resourceBody(schema), contentType).map(([body, type]): FuzzRequest => ({ method: "POST", path: `/${endpoint}`, body, contentType: type })),
    fc.tuple(id, resourceBody(schema), contentType).map(([i, body, type]): FuzzRequest => ({ method: "PUT", path: `/${endpoint}/${i}`, body, contentType: type })),
    { weight: 2, arbitrary: fc.tuple(id, patchBody, contentType).map(([i, body, type]): FuzzRequest => ({ method: "PATCH", path: `/${endpoint}/${i}`, body, contentType: type })) },
  );
}
const shapeRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(resource, shape, fc.constantFrom("POST", "PUT", "PATCH", "search"), fc.boolean())
  .map(([r, s, kind, alone]) => {
    const id = r.endpoint === "Users" ? USER_ID : GROUP_ID;
    const method = kind === "search" ? "POST" : kind;
    const path = kind === "search" ? `/${r.endpoint}/.search` : kind === "POST" ? `/${r.endpoint}` : `/${r.endpoint}/${id}`;
    const wrapping: Wrapping = alone ? "alone" : kind === "PATCH" ? "patch" : kind === "search" ? "search" : "resource";
    return { method, path, body: wrap(s, wrapping, r.schema), contentType: "application/scim+json" };
  });

/** The root search (GET /?filter=, POST /.search) and /Bulk with random bodies. */
const rootAndBulkRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.tuple(mostly(filter), mostly(listParameters, 3)).map(([f, params]): FuzzRequest => ({ method: "GET", path: `/?${f === undefined ? "" : `filter=${encodeQueryValue(f)}`}${params ?? ""}` })),
  fc.tuple(searchBody, contentType).map(([body, type]): FuzzRequest => ({ method: "POST", path: "/.search", body, contentType: type })),
  { weight: 3, arbitrary: fc.tuple(bulkBody, contentType).map(([body, type]): FuzzRequest => ({ method: "POST", path: "/Bulk", body, contentType: type })) },
);

/** Requests in flight at once, each on its own tenant (so each error is still checked alone). */
const PARALLEL = 2;

/**
 * Runs `runs` generated requests, PARALLEL at a time; fast-check reports the seed and the
 * failing requests. No shrinking: each request runs against live state, and a failing one is
 * printed whole.
 */
async function fuzz(arbitrary: fc.Arbitrary<FuzzRequest>, runs: number, seedOffset: number): Promise<void> {
  const sessions = Array.from({ length: PARALLEL }, () => new Session());
  await fc.assert(
    fc.asyncProperty(fc.array(arbitrary, { minLength: PARALLEL, maxLength: PARALLEL }), async (requests) => {
      await Promise.all(requests.map((request, i) => (sessions[i] ?? new Session()).send(request)));
    }),
    { seed: SEED + seedOffset, numRuns: runs / PARALLEL, endOnFailure: true },
  );
  await Promise.all(sessions.map((session) => session.checkReads()));
  expect(sessions.reduce((sum, session) => sum + session.requests, 0)).toBe(runs);
}

describe(`HTTP fuzz (FUZZ_SEED=${SEED})`, () => {
  it("list and .search with random filters and paging on /Users and /Groups (3,000 requests)", async () => {
    await fuzz(fc.oneof({ weight: 3, arbitrary: listRequest }, { weight: 1, arbitrary: searchRequest }), 3000, 1);
  });

  it("filters at and past the bounds: long chains, deep nesting, many parameters (2,000 requests)", async () => {
    await fuzz(boundRequest, 2000, 2);
  });

  it("POST, PUT and PATCH /Users with random bodies (2,000 requests)", async () => {
    await fuzz(writeRequest("Users"), 2000, 3);
  });

  it("POST, PUT and PATCH /Groups with random bodies (2,000 requests)", async () => {
    await fuzz(writeRequest("Groups"), 2000, 4);
  });

  it("deep, wide, long and malformed JSON on every write endpoint (1,000 requests)", async () => {
    await fuzz(shapeRequest, 1000, 5);
  });

  it("the root search and /Bulk with random filters and bodies (1,000 requests)", async () => {
    await fuzz(rootAndBulkRequest, 1000, 6);
  });
});
