/** POST /Bulk (RFC 7644 §3.7) over HTTP, as SCIM SDKs send it. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingEnv, send } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { ListJson, MemberJson } from "./support/scim-json";
import { GROUP, PATCH_OP, USER } from "./support/urns";

const BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

interface BulkResultJson {
  method: string;
  bulkId?: string;
  location?: string;
  version?: string;
  status: string;
  response?: { status: string; scimType?: string; detail: string };
}

interface BulkResponseJson {
  schemas: string[];
  Operations: BulkResultJson[];
}

async function bulk(tenant: TestTenant, body: unknown): Promise<BulkResponseJson> {
  const res = await scim(tenant, "/Bulk", { method: "POST", json: body });
  const json = await bodyOf<BulkResponseJson>(res);
  expect(res.status, JSON.stringify(json)).toBe(200);
  expect(json.schemas).toEqual([BULK_RESPONSE]);
  return json;
}

const userOp = (bulkId: string, userName: string) => ({ method: "POST", path: "/Users", bulkId, data: { schemas: [USER], userName } });
const groupOp = (bulkId: string, displayName: string, memberRefs: string[]) => ({
  method: "POST",
  path: "/Groups",
  bulkId,
  data: { schemas: [GROUP], displayName, members: memberRefs.map((ref) => ({ value: `bulkId:${ref}`, type: "User" })) },
});

async function totalOf(tenant: TestTenant, path: string): Promise<number> {
  return (await bodyOf<ListJson<unknown>>(await scim(tenant, path))).totalResults;
}

describe("POST /Bulk", () => {
  it.each([
    ["users first", [userOp("u1", "ann@example.com"), userOp("u2", "bob@example.com"), groupOp("g", "Team", ["u1", "u2"])]],
    ["the group first, referring forward", [groupOp("g", "Team", ["u1", "u2"]), userOp("u1", "ann@example.com"), userOp("u2", "bob@example.com")]],
  ])("creates users and a group whose members are their bulkIds (%s)", async (_order, Operations) => {
    const tenant = await createTenant();
    const { Operations: results } = await bulk(tenant, { schemas: [BULK_REQUEST], Operations });
    const context = JSON.stringify(results);
    // In the order the client sent them, each with its bulkId, status and location.
    expect(results.map((r) => r.bulkId), context).toEqual(Operations.map((op) => op.bulkId));
    expect(results.every((r) => r.status === "201" && r.method === "POST"), context).toBe(true);
    const byBulkId = new Map(results.map((r) => [r.bulkId, r]));
    const userIds = ["u1", "u2"].map((b) => byBulkId.get(b)?.location?.split("/Users/")[1]);
    const group = byBulkId.get("g");
    expect(group?.location, context).toMatch(new RegExp(`^${tenant.baseUrl}/Groups/[^/]+$`));
    expect(group?.version, context).toMatch(/^W\/"\d+"$/);
    const read = await bodyOf<{ members: MemberJson[] }>(await scim(tenant, `/Groups/${group?.location?.split("/Groups/")[1]}`));
    expect(read.members.map((m) => m.value).sort(), JSON.stringify(read)).toEqual([...userIds].sort());
    // The same events as the single requests would have written.
    const feed = await (await admin(`/tenants/${tenant.id}/events`)).json<{ events: { type: string }[] }>();
    expect(feed.events.map((e) => e.type).sort()).toEqual(["group.created", "user.created", "user.created"]);
  });

  it("runs PUT, PATCH and DELETE with version as If-Match, and a bulkId in the path", async () => {
    const tenant = await createTenant();
    const { Operations: results } = await bulk(tenant, {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: "PATCH", path: "/Users/bulkId:u", data: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] } },
        userOp("u", "pat@example.com"),
        { method: "PUT", path: "/Users/bulkId:u", version: 'W/"999"', data: { schemas: [USER], userName: "pat@example.com" } },
        { method: "DELETE", path: "/users/bulkId:u/" },
      ],
    });
    const context = JSON.stringify(results);
    expect(results.map((r) => [r.method, r.status]), context).toEqual([
      ["PATCH", "200"],
      ["POST", "201"],
      ["PUT", "412"],
      ["DELETE", "204"],
    ]);
    expect(results[2]?.response, context).toMatchObject({ status: "412", detail: expect.any(String) as string });
    expect(results[0]?.location, context).toBe(results[1]?.location);
    expect(await totalOf(tenant, "/Users")).toBe(0);
  });

  it("stops after failOnErrors failures and reports only the operations it performed", async () => {
    const tenant = await createTenant();
    const { Operations: results } = await bulk(tenant, {
      schemas: [BULK_REQUEST],
      failOnErrors: 1,
      Operations: [userOp("a", "same@example.com"), userOp("b", "SAME@example.com"), userOp("c", "later@example.com")],
    });
    const context = JSON.stringify(results);
    expect(results.map((r) => [r.bulkId, r.status]), context).toEqual([
      ["a", "201"],
      ["b", "409"],
    ]);
    expect(results[1]?.response, context).toMatchObject({ scimType: "uniqueness" });
    expect(await totalOf(tenant, `/Users?filter=${encodeURIComponent('userName eq "later@example.com"')}`)).toBe(0);
  });

  it("refuses circular bulkId references with 409, runs the rest, and fails what refers to a failed operation", async () => {
    const tenant = await createTenant();
    const { Operations: results } = await bulk(tenant, {
      schemas: [BULK_REQUEST],
      Operations: [
        { ...groupOp("ga", "A", []), data: { schemas: [GROUP], displayName: "A", members: [{ value: "bulkId:gb" }] } },
        { ...groupOp("gb", "B", []), data: { schemas: [GROUP], displayName: "B", members: [{ value: "bulkId:ga" }] } },
        { ...groupOp("gc", "C", []), data: { schemas: [GROUP], displayName: "C", members: [{ value: "bulkId:ga" }] } },
        userOp("u", "fine@example.com"),
        { ...groupOp("gd", "D", []), data: { schemas: [GROUP], displayName: "D", members: [{ value: "bulkId:nowhere" }] } },
      ],
    });
    const context = JSON.stringify(results);
    expect(results.map((r) => [r.bulkId, r.status]), context).toEqual([
      ["ga", "409"],
      ["gb", "409"],
      ["gc", "409"],
      ["u", "201"],
      ["gd", "400"],
    ]);
    expect(results[0]?.response?.detail, context).toMatch(/circular/);
    expect(results[4]?.response, context).toMatchObject({ scimType: "invalidValue" });
    expect(await totalOf(tenant, "/Groups")).toBe(0);
    expect(await totalOf(tenant, "/Users")).toBe(1);
  });

  it("answers each operation as the single request would: 404, 405, 400", async () => {
    const tenant = await createTenant();
    const { Operations: results } = await bulk(tenant, {
      schemas: [BULK_REQUEST],
      Operations: [
        { method: "DELETE", path: "/Users/not-a-user" },
        { method: "PUT", path: "/Users", data: { schemas: [USER], userName: "x@example.com" } },
        { method: "POST", path: "/Widgets", bulkId: "w", data: {} },
        { method: "POST", path: "/Users", bulkId: "bad", data: { schemas: [USER], userName: 123 } },
      ],
    });
    expect(results.map((r) => [r.status, r.response?.scimType]), JSON.stringify(results)).toEqual([
      ["404", undefined],
      ["405", undefined],
      ["404", undefined],
      ["400", "invalidValue"],
    ]);
    expect(await totalOf(tenant, "/Users")).toBe(0);
  });

  it("logs each operation as its own provisioning-log row", async () => {
    const tenant = await createTenant();
    await bulk(tenant, {
      schemas: [BULK_REQUEST],
      Operations: [userOp("a", "log1@example.com"), userOp("b", "LOG1@example.com"), groupOp("g", "Logged", ["a"]), { method: "DELETE", path: "/Groups/bulkId:g" }],
    });
    const logOf = async () => (await (await admin(`/tenants/${tenant.id}/log`)).json<{ entries: { method: string; path: string; status: number }[] }>()).entries;
    await expect.poll(async () => (await logOf()).length).toBeGreaterThanOrEqual(5);
    const rows = (await logOf()).map((e) => `${e.method} ${e.path.replace(`/scim/v2/${tenant.id}`, "").replace(/Groups\/[^/]+$/, "Groups/{id}")} ${e.status}`).sort();
    expect(rows).toEqual(["DELETE /Bulk/Groups/{id} 204", "POST /Bulk 200", "POST /Bulk/Groups 201", "POST /Bulk/Users 201", "POST /Bulk/Users 409"]);
  });
});

describe("POST /Bulk: D1 work", () => {
  it("costs what its operations cost as single requests: one write batch each (a PATCH its read too), log rows included", async () => {
    const tenant = await createTenant();
    const counting = countingEnv(env);
    const body = {
      schemas: [BULK_REQUEST],
      Operations: [
        userOp("a", "rt1@example.com"),
        userOp("b", "rt2@example.com"),
        { method: "PATCH", path: "/Users/bulkId:a", data: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "A" }] } },
        { method: "DELETE", path: "/Users/bulkId:b" },
      ],
    };
    const sent = await send(
      counting,
      new Request(`${tenant.baseUrl}/Bulk`, { method: "POST", headers: { Authorization: `Bearer ${tenant.token}`, "Content-Type": "application/scim+json" }, body: JSON.stringify(body) }),
    );
    const json = await bodyOf<BulkResponseJson>(sent.response);
    expect(json.Operations.map((r) => r.status), JSON.stringify(json)).toEqual(["201", "201", "200", "204"]);
    // POST 1 + POST 1 + PATCH 2 (read, write) + DELETE 1.
    expect(sent.before.d1RoundTrips).toBe(5);
    const logInserts = sent.statements.filter((st) => /^insert into "request_log"/i.test(st.sql));
    expect(logInserts.length).toBe(4);
  });
});

describe("POST /Bulk: limits and bad bodies change nothing", () => {
  it("answers 413 past maxPayloadSize and past maxOperations", async () => {
    const tenant = await createTenant();
    const big = { schemas: [BULK_REQUEST], Operations: [{ ...userOp("a", "big@example.com"), data: { schemas: [USER], userName: "big@example.com", title: "x".repeat(1024 * 1024) } }] };
    await expectScimError(await scim(tenant, "/Bulk", { method: "POST", json: big }), 413);
    const many = { schemas: [BULK_REQUEST], Operations: Array.from({ length: 101 }, (_, i) => userOp(`u${i}`, `many${i}@example.com`)) };
    const tooMany = await expectScimError(await scim(tenant, "/Bulk", { method: "POST", json: many }), 413);
    expect(tooMany.detail).toMatch(/maxOperations/);
    expect(await totalOf(tenant, "/Users")).toBe(0);
  });

  it.each([
    ["not an object", [1, 2], "invalidSyntax"],
    ["no Operations", { schemas: [BULK_REQUEST] }, "invalidSyntax"],
    ["an operation that is not an object", { Operations: ["POST /Users"] }, "invalidSyntax"],
    ["an unknown method", { Operations: [{ method: "GET", path: "/Users" }] }, "invalidSyntax"],
    ["a path without a slash", { Operations: [{ method: "DELETE", path: "Users/x" }] }, "invalidSyntax"],
    ["a POST without bulkId", { Operations: [{ method: "POST", path: "/Users", data: { schemas: [USER], userName: "n@example.com" } }] }, "invalidSyntax"],
    ["a bulkId used twice", { Operations: [userOp("a", "one@example.com"), userOp("a", "two@example.com")] }, "invalidValue"],
    ["failOnErrors 0", { failOnErrors: 0, Operations: [userOp("a", "one@example.com")] }, "invalidValue"],
  ])("answers 400 to %s and creates nothing", async (_what, body, scimType) => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/Bulk", { method: "POST", json: body }), 400, scimType);
    expect(await totalOf(tenant, "/Users")).toBe(0);
  });

  it("answers 415 to another media type, 400 to malformed JSON and 401 without a token", async () => {
    const tenant = await createTenant();
    const body = JSON.stringify({ schemas: [BULK_REQUEST], Operations: [userOp("a", "media@example.com")] });
    await expectScimError(await scim(tenant, "/Bulk", { method: "POST", body, headers: { "Content-Type": "text/plain" } }), 415);
    await expectScimError(await scim(tenant, "/Bulk", { method: "POST", body: "{\"Operations\": [", headers: { "Content-Type": "application/scim+json" } }), 400, "invalidSyntax");
    await expectScimError(await scim(tenant, "/Bulk", { method: "POST", body, token: null, headers: { "Content-Type": "application/scim+json" } }), 401);
    expect(await totalOf(tenant, "/Users")).toBe(0);
  });

  it("answers 405 with Allow to GET /Bulk", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, "/Bulk");
    await expectScimError(res, 405);
    expect(res.headers.get("Allow")).toBe("POST");
  });
});
