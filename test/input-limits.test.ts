/**
 * Inputs that once answered 500 (issue 9, item 4): each gets its RFC 7644 §3.12 400 and changes
 * nothing, and the legitimate inputs next to each bound still work.
 */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, SCIM_JSON, type TestTenant } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { GROUP, PATCH_OP, USER } from "./support/urns";

const RESOURCES = [
  // `boundPr`: a `pr` whose operand binds a parameter, and appears twice in the SQL.
  { endpoint: "Users", schema: USER, name: "userName", other: "title", boundPr: "title pr" },
  { endpoint: "Groups", schema: GROUP, name: "displayName", other: "externalId", boundPr: "meta.resourceType pr" },
] as const;

function list(tenant: TestTenant, endpoint: string, filter: string): Promise<Response> {
  return scim(tenant, `/${endpoint}?filter=${encodeURIComponent(filter)}`);
}

function repeat(term: string, times: number, join: string): string {
  return Array.from({ length: times }, () => term).join(` ${join} `);
}

async function create(tenant: TestTenant, endpoint: string, body: Record<string, unknown>): Promise<{ id: string; meta: { version: string } }> {
  const res = await scim(tenant, `/${endpoint}`, { method: "POST", json: body });
  const created = await bodyOf<{ id: string; meta: { version: string } }>(res);
  expect(res.status, JSON.stringify(created)).toBe(201);
  return created;
}

async function eventCount(tenant: TestTenant): Promise<number> {
  const res = await admin(`/tenants/${tenant.id}/events?limit=1000`);
  return (await res.json<{ events: unknown[] }>()).events.length;
}

describe.each(RESOURCES)("/$endpoint", (resource) => {
  it("answers an empty page, not 500, for startIndex=2 on a tenant that never had one", async () => {
    const tenant = await createTenant();
    for (const query of ["startIndex=2", "startIndex=2&count=5", "startIndex=1000000"]) {
      const res = await scim(tenant, `/${resource.endpoint}?${query}`);
      const body = await bodyOf<ListJson<unknown>>(res);
      expect(res.status, `${query}: ${JSON.stringify(body)}`).toBe(200);
      expect(body.totalResults).toBe(0);
      expect(body.Resources ?? []).toEqual([]);
    }
  });

  it("answers 200 with the right matches for 200 to 300 and/or terms (chains compile as balanced trees)", async () => {
    const tenant = await createTenant();
    const created = await create(tenant, resource.endpoint, { schemas: [resource.schema], [resource.name]: "target", [resource.other]: "x" });
    // `id pr` binds nothing, so only the depth limit could refuse these.
    const all = repeat("id pr", 300, "and");
    const none = `${repeat(`${resource.name} eq "nobody"`, 20, "or")} or ${repeat("not (id pr)", 180, "or")}`;
    const last = `${repeat("not (id pr)", 199, "or")} or id pr`;
    for (const [filter, expected] of [[all, [created.id]], [none, []], [last, [created.id]]] as const) {
      expect(filter.length).toBeLessThanOrEqual(4096);
      const res = await list(tenant, resource.endpoint, filter);
      const body = await bodyOf<ListJson<{ id: string }>>(res);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.Resources.map((r) => r.id)).toEqual(expected);
    }
  });

  it("refuses nesting past the compiled depth bound with 400 invalidFilter, and answers just below it", async () => {
    const tenant = await createTenant();
    const nested = (levels: number) => `${"not (id pr and ".repeat(levels)}id pr${")".repeat(levels)}`;
    expect((await list(tenant, resource.endpoint, nested(20))).status).toBe(200);
    for (const levels of [25, 31, 32]) {
      const body = await expectScimError(await list(tenant, resource.endpoint, nested(levels)), 400, "invalidFilter");
      expect(body.detail).toMatch(/too complex|nests deeper/);
    }
  });

  it("counts every bound parameter: 50 × meta.resourceType pr and 70 eq + 30 pr get 400 invalidFilter", async () => {
    const tenant = await createTenant();
    const fifty = repeat("meta.resourceType pr", 50, "and");
    const mixed = `${Array.from({ length: 70 }, (_, i) => `${resource.name} eq "n${i}"`).join(" or ")} or ${repeat(resource.boundPr, 30, "or")}`;
    for (const filter of [fifty, mixed]) {
      expect(filter.length).toBeLessThanOrEqual(4096);
      const body = await expectScimError(await list(tenant, resource.endpoint, filter), 400, "invalidFilter");
      expect(body.detail).toContain("at most 80 values");
    }
    // Twenty of them bind 40 parameters: answered.
    expect((await list(tenant, resource.endpoint, repeat("meta.resourceType pr", 20, "and"))).status).toBe(200);
  });

  it("refuses a body nested deeper than 64 levels with 400 invalidSyntax on every write, changing nothing", async () => {
    const tenant = await createTenant();
    const created = await create(tenant, resource.endpoint, { schemas: [resource.schema], [resource.name]: "kept" });
    const events = await eventCount(tenant);
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const patch = `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","path":"${resource.other}","value":${deep}}]}`;
    const resourceBody = `{"schemas":["${resource.schema}"],"${resource.name}":"other","${resource.other}":${deep}}`;
    const writes: [string, string, string][] = [
      ["PATCH", `/${resource.endpoint}/${created.id}`, patch],
      ["PUT", `/${resource.endpoint}/${created.id}`, resourceBody],
      ["POST", `/${resource.endpoint}`, resourceBody],
      ["POST", `/${resource.endpoint}/.search`, `{"filter":${deep}}`],
    ];
    for (const [method, path, body] of writes) {
      const res = await scim(tenant, path, { method, body, headers: { "Content-Type": SCIM_JSON } });
      const error = await expectScimError(res, 400, "invalidSyntax");
      expect(error.detail, `${method} ${path}`).toContain("deeper than 64 levels");
    }
    const after = await bodyOf<{ meta: { version: string } }>(await scim(tenant, `/${resource.endpoint}/${created.id}`));
    expect(after.meta.version).toBe(created.meta.version);
    expect(await eventCount(tenant)).toBe(events);
  });

  it("accepts 64 levels of nesting, and brackets inside strings do not count", async () => {
    const tenant = await createTenant();
    // An unknown attribute 63 levels deep inside the body object (64 with it) is ignored, as extras are.
    const deepest = `${"[".repeat(63)}${"]".repeat(63)}`;
    const body = `{"schemas":["${resource.schema}"],"${resource.name}":"${"[{".repeat(100)}","extra":${deepest}}`;
    const res = await scim(tenant, `/${resource.endpoint}`, { method: "POST", body, headers: { "Content-Type": SCIM_JSON } });
    expect(res.status, await res.clone().text()).toBe(201);
    const tooDeep = body.replace(deepest, `[${deepest}]`);
    const refused = await scim(tenant, `/${resource.endpoint}`, { method: "POST", body: tooDeep, headers: { "Content-Type": SCIM_JSON } });
    await expectScimError(refused, 400, "invalidSyntax");
  });
});

describe("value filters", () => {
  it("answers emails[not (…)] nested 25 levels with 400 invalidFilter, and 10 levels with the match", async () => {
    const tenant = await createTenant();
    const user = await create(tenant, "Users", { schemas: [USER], userName: "nested", emails: [{ value: "a@example.com", type: "work" }] });
    const nested = (levels: number) => `emails[${"not (".repeat(levels)}value eq "b@example.com"${")".repeat(levels)}]`;
    const body = await expectScimError(await list(tenant, "Users", nested(25)), 400, "invalidFilter");
    expect(body.detail).toContain("too complex");
    const res = await list(tenant, "Users", nested(11));
    const page = await bodyOf<ListJson<{ id: string }>>(res);
    expect(res.status, JSON.stringify(page)).toBe(200);
    expect(page.Resources.map((r) => r.id)).toEqual([user.id]);
  });

  it("counts a case-insensitive fold's replace() chain toward the depth bound: 400, never SQLite's depth error", async () => {
    const tenant = await createTenant();
    const user = await create(tenant, "Users", { schemas: [USER], userName: "folded", name: { familyName: "ÀÉÎÕÜÇÑ" } });
    // Each of these letters has case variants, so the compiled comparison nests one replace() per variant.
    const leaf = 'name.familyName eq "àéîõüçñ"';
    const nested = (levels: number) => `${"not (".repeat(levels)}${leaf}${")".repeat(levels)}`;
    for (const levels of [16, 20, 24]) {
      const res = await list(tenant, "Users", nested(levels));
      if (res.status === 400) {
        await expectScimError(res, 400, "invalidFilter");
        continue;
      }
      const page = await bodyOf<ListJson<{ id: string }>>(res);
      expect(res.status, `${levels} levels: ${JSON.stringify(page)}`).toBe(200);
      expect(page.Resources?.map((r) => r.id) ?? [], `${levels} levels`).toEqual(levels % 2 === 0 ? [user.id] : []);
    }
    const inEmails = `emails[${"not (".repeat(14)}value eq "jörg@x.de"${")".repeat(14)}]`;
    const res = await list(tenant, "Users", inEmails);
    expect([200, 400], `emails: ${await res.clone().text()}`).toContain(res.status);
  });
});
