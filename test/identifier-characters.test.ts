/**
 * Names that look alike and text that is not text (issue 10 §5): default-ignorable code points
 * in userName, group displayName and externalId, and lone surrogates in any string of a SCIM
 * body, are answered 400 invalidValue on POST, PUT and PATCH, and nothing changes.
 */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

type Kind = "Users" | "Groups";
const NAME: Record<Kind, string> = { Users: "userName", Groups: "displayName" };
const SCHEMA: Record<Kind, string> = { Users: USER, Groups: GROUP };

function resource(kind: Kind, name: string, extra: Record<string, unknown> = {}) {
  return { schemas: [SCHEMA[kind]], [NAME[kind]]: name, ...extra };
}

async function create(tenant: TestTenant, kind: Kind, name: string): Promise<{ id: string }> {
  const res = await scim(tenant, `/${kind}`, { method: "POST", json: resource(kind, name) });
  const body = await bodyOf<{ id: string }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function rowCount(kind: Kind, tenantId: string): Promise<number> {
  const table = kind === "Users" ? "users" : "groups";
  const row = await (await shardOf(tenantId)).prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenantId).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Sends a body that is refused, and checks the resource (document, version) is as it was. */
async function expectRefusedAndUnchanged(tenant: TestTenant, kind: Kind, id: string, init: RequestInit & { json: unknown }, detail: RegExp) {
  const before = await bodyOf(await scim(tenant, `/${kind}/${id}`));
  const error = await expectScimError(await scim(tenant, `/${kind}/${id}`, init), 400, "invalidValue");
  expect(error.detail).toMatch(detail);
  expect(await bodyOf(await scim(tenant, `/${kind}/${id}`))).toEqual(before);
}

const IGNORABLES: [string, string][] = [
  ["a soft hyphen (U+00AD)", "ann\u00ADa"],
  ["a combining grapheme joiner (U+034F)", "ann\u034Fa"],
  ["an Arabic letter mark (U+061C)", "ann\u061Ca"],
  ["a Hangul filler (U+3164)", "ann\u3164a"],
  ["a variation selector (U+FE0F)", "ann\uFE0Fa"],
  ["a tag character (U+E0041)", "ann\u{E0041}a"],
];

describe.each<Kind>(["Users", "Groups"])("invisible characters in a %s name", (kind) => {
  const name = NAME[kind];

  it.each(IGNORABLES)(`refuses %s in ${name} on POST, and stores nothing`, async (_label, value) => {
    const tenant = await createTenant();
    const error = await expectScimError(await scim(tenant, `/${kind}`, { method: "POST", json: resource(kind, value) }), 400, "invalidValue");
    expect(error.detail).toContain(name);
    expect(await rowCount(kind, tenant.id)).toBe(0);
  });

  it(`refuses a soft hyphen in ${name} on PUT and leaves the resource as it was`, async () => {
    const tenant = await createTenant();
    const { id } = await create(tenant, kind, "anna");
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PUT", json: resource(kind, "an\u00ADna") }, new RegExp(name));
  });

  it(`refuses a combining grapheme joiner in ${name} on PATCH (with and without a path) and leaves the resource as it was`, async () => {
    const tenant = await createTenant();
    const { id } = await create(tenant, kind, "anna");
    const withPath = { schemas: [PATCH_OP], Operations: [{ op: "replace", path: name, value: "an\u034Fna" }] };
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PATCH", json: withPath }, new RegExp(name));
    const pathless = { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { [name]: "an\u034Fna" } }] };
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PATCH", json: pathless }, new RegExp(name));
  });

  it(`refuses a soft hyphen in externalId on POST, PUT and PATCH`, async () => {
    const tenant = await createTenant();
    const refused = await scim(tenant, `/${kind}`, { method: "POST", json: resource(kind, "anna", { externalId: "ext\u00AD1" }) });
    expect((await expectScimError(refused, 400, "invalidValue")).detail).toContain("externalId");
    expect(await rowCount(kind, tenant.id)).toBe(0);
    const { id } = await create(tenant, kind, "anna");
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PUT", json: resource(kind, "anna", { externalId: "ext\u034F1" }) }, /externalId/);
    const patch = { schemas: [PATCH_OP], Operations: [{ op: "add", path: "externalId", value: "ext\uFEFF1" }] };
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PATCH", json: patch }, /externalId/);
  });

  it(`still accepts ${name}s with visible non-ASCII letters and joined scripts`, async () => {
    const tenant = await createTenant();
    await create(tenant, kind, "Zo\u00eb M\u00fcller");
    await create(tenant, kind, "\u0905\u0928\u093f\u0932"); // Devanagari, with a vowel sign
    await create(tenant, kind, "\u095B\u094B\u092F\u093E"); // precomposed za (NFC decomposes it): still a name
  });
});

describe.each<Kind>(["Users", "Groups"])("lone surrogates in a %s body", (kind) => {
  const name = NAME[kind];
  const extraString = kind === "Users" ? { name: { givenName: "Ann\ud800" } } : { externalId: "g-\udc00" };
  const extraPath = kind === "Users" ? /name\.givenName/ : /externalId/;

  it(`refuses one in ${name} on POST, naming the attribute, and stores nothing`, async () => {
    const tenant = await createTenant();
    const error = await expectScimError(await scim(tenant, `/${kind}`, { method: "POST", json: resource(kind, "ann\ud800") }), 400, "invalidValue");
    expect(error.detail).toContain(`"${name}"`);
    expect(error.detail).toMatch(/surrogate/);
    expect(await rowCount(kind, tenant.id)).toBe(0);
  });

  it("refuses one in any other string value on POST, known attribute or not", async () => {
    const tenant = await createTenant();
    const sub = await scim(tenant, `/${kind}`, { method: "POST", json: resource(kind, "ann", extraString) });
    expect((await expectScimError(sub, 400, "invalidValue")).detail).toMatch(extraPath);
    const unknown = await scim(tenant, `/${kind}`, { method: "POST", json: resource(kind, "ann", { nonStandard: ["ok", "\udbff"] }) });
    expect((await expectScimError(unknown, 400, "invalidValue")).detail).toContain("nonStandard[1]");
    expect(await rowCount(kind, tenant.id)).toBe(0);
  });

  it("refuses one on PUT and leaves the resource as it was", async () => {
    const tenant = await createTenant();
    const { id } = await create(tenant, kind, "ann");
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PUT", json: resource(kind, "ann\ud800") }, new RegExp(name));
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PUT", json: resource(kind, "ann", extraString) }, extraPath);
  });

  it("refuses one in a PATCH value (with and without a path) and leaves the resource as it was", async () => {
    const tenant = await createTenant();
    const { id } = await create(tenant, kind, "ann");
    const withPath = { schemas: [PATCH_OP], Operations: [{ op: "replace", path: name, value: "\udc00ann" }] };
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PATCH", json: withPath }, /Operations\[0\]\.value/);
    const pathless = { schemas: [PATCH_OP], Operations: [{ op: "add", value: extraString }] };
    await expectRefusedAndUnchanged(tenant, kind, id, { method: "PATCH", json: pathless }, /Operations\[0\]\.value\./);
  });

  it("finds one at the bottom of the deepest nesting a body may have, and never overflows the stack", async () => {
    const tenant = await createTenant();
    const nested = (depth: number, inner: string) => `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
    const body = (depth: number, inner: string) => `{"schemas":["${SCHEMA[kind]}"],"${name}":"deep${depth}","nonStandard":${nested(depth, inner)}}`;
    const headers = { "Content-Type": "application/scim+json" };
    // 62 arrays inside the body's object: just under the 64-level body cap (routes/body.ts).
    const refused = await scim(tenant, `/${kind}`, { method: "POST", headers, body: body(62, '"\\ud800"') });
    expect((await expectScimError(refused, 400, "invalidValue")).detail).toContain("nonStandard[0][0]");
    const accepted = await scim(tenant, `/${kind}`, { method: "POST", headers, body: body(62, '"fine"') });
    expect(accepted.status, await accepted.clone().text()).toBe(201);
    // 200,000 levels are refused by the depth cap before anything walks them.
    const deep = await scim(tenant, `/${kind}`, { method: "POST", headers, body: body(200_000, '"\\ud800"') });
    await expectScimError(deep, 400, "invalidSyntax");
  });

  it("answers a filter with one without a 500: it matches nothing", async () => {
    const tenant = await createTenant();
    await create(tenant, kind, "ann");
    const search = { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: `${name} eq "ann\ud800"` };
    const res = await scim(tenant, `/${kind}/.search`, { method: "POST", json: search });
    const body = await bodyOf<{ totalResults: number }>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.totalResults).toBe(0);
  });
});
