/**
 * /Users as Okta drives it: every request replays a line of /work/shared/IDP-BEHAVIOUR.md
 * ("## Okta"), with Okta's User-Agent and media types. RFC-level behaviour lives in users.test.ts.
 */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { expectListResponse } from "./support/expect-response";
import { bodyOf, createTenant, type TestTenant } from "./support/http";
import { okta } from "./support/idp";
import type { ListJson } from "./support/scim-json";
import { PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

const PASSWORD = "1mz050nq-Okta-Secret";

/**
 * IDP-BEHAVIOUR.md, Okta, "Create: `POST /Users` with `schemas, userName, name{givenName,familyName},
 * emails[{primary:true,value,type:"work"}], displayName, locale, externalId, groups:[], password:"…", active:true`".
 */
const OKTA_CREATE = {
  schemas: [USER],
  userName: "test.user@okta.local",
  name: { givenName: "Test", familyName: "User" },
  emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
  displayName: "Test User",
  locale: "en-US",
  externalId: "00ujl29u0le5T6Aj10h7",
  groups: [],
  password: PASSWORD,
  active: true,
} as const;

/**
 * IDP-BEHAVIOUR.md, Okta, "Before creating a user:
 * `GET /Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100`".
 */
const OKTA_LOOKUP = "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100";

/** IDP-BEHAVIOUR.md, Okta, "Deactivate/reactivate: `PATCH` with no path". */
function oktaActivePatch(active: boolean) {
  return { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active } }] };
}

interface UserJson {
  schemas: string[];
  id: string;
  userName: string;
  externalId?: string;
  displayName?: string;
  locale?: string;
  active?: boolean;
  name?: { givenName?: string; familyName?: string; middleName?: string; formatted?: string };
  emails?: { value: string; type?: string; primary?: boolean; display?: string }[];
  groups?: unknown[];
  meta: { resourceType: string; created: string; lastModified: string; location: string; version: string };
  [key: string]: unknown;
}

async function oktaCreate(tenant: TestTenant, overrides: Record<string, unknown> = {}): Promise<UserJson> {
  const res = await okta(tenant, "/Users", { method: "POST", json: { ...OKTA_CREATE, ...overrides } });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  expect(text.length, "Okta treats an empty create response as a failure").toBeGreaterThan(0);
  return JSON.parse(text) as UserJson;
}

async function getUser(tenant: TestTenant, id: string): Promise<{ status: number; body: UserJson }> {
  const res = await okta(tenant, `/Users/${id}`);
  return { status: res.status, body: await bodyOf<UserJson>(res) };
}

describe("Okta: connector test", () => {
  it("answers Okta's connector probe GET /Users?startIndex=1&count=2 with an integer ListResponse", async () => {
    const tenant = await createTenant({ provider: "okta" });
    await oktaCreate(tenant, { userName: "one@okta.local", externalId: "00u1" });
    await oktaCreate(tenant, { userName: "two@okta.local", externalId: "00u2" });
    await oktaCreate(tenant, { userName: "three@okta.local", externalId: "00u3" });
    const res = await okta(tenant, "/Users?startIndex=1&count=2");
    const body = await bodyOf<ListJson<UserJson>>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(res.headers.get("Content-Type"), JSON.stringify(body)).toMatch(/^application\/scim\+json/);
    expectListResponse(body);
    expect(body, JSON.stringify(body)).toMatchObject({ totalResults: 3, startIndex: 1, itemsPerPage: 2 });
    expect(body.Resources).toHaveLength(2);
  });

  it("answers Okta's connector probe GET /Groups?startIndex=1&count=100 with an integer ListResponse", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const res = await okta(tenant, "/Groups?startIndex=1&count=100");
    const body = await bodyOf<ListJson<unknown>>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expectListResponse(body);
    expect(body, JSON.stringify(body)).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
  });
});

describe("Okta: create", () => {
  it("answers Okta's pre-create userName lookup with an empty list, then finds the user once created", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const before = await okta(tenant, OKTA_LOOKUP);
    const empty = await bodyOf<ListJson<UserJson>>(before);
    expect(before.status, JSON.stringify(empty)).toBe(200);
    expectListResponse(empty);
    expect(empty, JSON.stringify(empty)).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const created = await oktaCreate(tenant);
    const after = await okta(tenant, OKTA_LOOKUP);
    const found = await bodyOf<ListJson<UserJson>>(after);
    expect(after.status, JSON.stringify(found)).toBe(200);
    expectListResponse(found);
    expect(found, JSON.stringify(found)).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(found.Resources[0]?.id, JSON.stringify(found)).toBe(created.id);
    expect(found.Resources[0]?.userName).toBe("test.user@okta.local");
  });

  it("creates a user from Okta's exact body: 201 with the full user, Location and every attribute kept", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const res = await okta(tenant, "/Users", { method: "POST", json: OKTA_CREATE });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    expect(text.length, "an empty create response is a failure for Okta").toBeGreaterThan(0);
    expect(res.headers.get("Content-Type"), text).toMatch(/^application\/scim\+json/);
    const user = JSON.parse(text) as UserJson;
    expect(user.id, text).toEqual(expect.any(String));
    expect(res.headers.get("Location"), text).toBe(`${tenant.baseUrl}/Users/${user.id}`);
    expect(user, text).toMatchObject({
      schemas: expect.arrayContaining([USER]) as unknown,
      userName: "test.user@okta.local",
      name: { givenName: "Test", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
      displayName: "Test User",
      locale: "en-US",
      externalId: "00ujl29u0le5T6Aj10h7",
      active: true,
      meta: { resourceType: "User" },
    });
    expect(user.groups ?? [], text).toEqual([]);

    const again = await getUser(tenant, user.id);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body, JSON.stringify(again.body)).toMatchObject({ userName: "test.user@okta.local", externalId: "00ujl29u0le5T6Aj10h7", active: true });
  });

  it("stores Okta's password nowhere and never returns it", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const res = await okta(tenant, "/Users", { method: "POST", json: OKTA_CREATE });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toMatch(/"password"/i);
    const user = JSON.parse(text) as UserJson;

    const read = await okta(tenant, `/Users/${user.id}`);
    expect(await read.text()).not.toContain(PASSWORD);
    const listed = await okta(tenant, OKTA_LOOKUP);
    expect(await listed.text()).not.toContain(PASSWORD);

    const doc = await (await shardOf(tenant.id)).prepare("SELECT doc FROM users WHERE tenant_id = ? AND id = ?").bind(tenant.id, user.id).first<{ doc: string }>();
    expect(doc?.doc, "the user row must exist").toEqual(expect.any(String));
    expect(doc?.doc).not.toContain(PASSWORD);
    expect(doc?.doc).not.toMatch(/"password"/i);
    const row = await (await shardOf(tenant.id)).prepare("SELECT * FROM users WHERE tenant_id = ? AND id = ?").bind(tenant.id, user.id).first();
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    const { results: events } = await (await shardOf(tenant.id)).prepare("SELECT * FROM events WHERE tenant_id = ?").bind(tenant.id).all();
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it("answers Okta's duplicate create with 409 uniqueness and a SCIM Error body, keeping one user", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const first = await oktaCreate(tenant);
    const res = await okta(tenant, "/Users", { method: "POST", json: OKTA_CREATE });
    await expectScimError(res, 409, "uniqueness");
    const list = await bodyOf<ListJson<UserJson>>(await okta(tenant, OKTA_LOOKUP));
    expect(list.totalResults, JSON.stringify(list)).toBe(1);
    expect(list.Resources[0]?.id).toBe(first.id);
  });
});

describe("Okta: update with PUT", () => {
  it("accepts Okta's GET-then-PUT with id, groups and meta in the body, ignoring those readOnly values", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const created = await oktaCreate(tenant);
    const fetched = await getUser(tenant, created.id);
    expect(fetched.status, JSON.stringify(fetched.body)).toBe(200);

    // IDP-BEHAVIOUR.md, Okta, "Updates: GET then `PUT /Users/{id}` with the full body, which
    // includes `id`, `groups` and `meta`": Okta's documented PUT body.
    const put = {
      schemas: [USER],
      id: created.id,
      userName: "test.user@okta.local",
      name: { givenName: "Another", middleName: "", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work", display: "test.user@okta.local" }],
      displayName: "Another User",
      locale: "en-US",
      externalId: "00ujl29u0le5T6Aj10h7",
      groups: [{ value: "00g1emaKYZTWRYYRRTSK", display: "Okta group" }],
      meta: { resourceType: "User", created: "2001-01-01T00:00:00Z", lastModified: "2001-01-01T00:00:00Z", version: 'W/"99"' },
      active: true,
    };
    const res = await okta(tenant, `/Users/${created.id}`, { method: "PUT", json: put });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body, JSON.stringify(body)).toMatchObject({
      id: created.id,
      displayName: "Another User",
      name: { givenName: "Another", familyName: "User" },
      active: true,
      meta: { created: created.meta.created },
    });
    expect(body.meta.version, JSON.stringify(body)).not.toBe('W/"99"');
    expect(body.meta.created, JSON.stringify(body)).not.toBe("2001-01-01T00:00:00Z");
    expect(body.groups ?? [], JSON.stringify(body)).toEqual([]);
    expect(JSON.stringify(body)).not.toContain(PASSWORD);

    const stored = await getUser(tenant, created.id);
    expect(stored.body, JSON.stringify(stored.body)).toMatchObject({ id: created.id, displayName: "Another User", name: { givenName: "Another" } });
    expect(stored.body.groups ?? [], JSON.stringify(stored.body)).toEqual([]);
  });

  it("deactivates with a wizard app's PUT active:false, and the user stays readable and listed", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const created = await oktaCreate(tenant);
    const { body: current } = await getUser(tenant, created.id);
    const res = await okta(tenant, `/Users/${created.id}`, { method: "PUT", json: { ...current, active: false } });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.active, JSON.stringify(body)).toBe(false);

    const after = await getUser(tenant, created.id);
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.active, JSON.stringify(after.body)).toBe(false);
    const list = await bodyOf<ListJson<UserJson>>(await okta(tenant, OKTA_LOOKUP));
    expect(list.totalResults, JSON.stringify(list)).toBe(1);
    expect(list.Resources[0]?.active, JSON.stringify(list)).toBe(false);

    const back = await okta(tenant, `/Users/${created.id}`, { method: "PUT", json: { ...after.body, active: true } });
    const reactivated = await bodyOf<UserJson>(back);
    expect(back.status, JSON.stringify(reactivated)).toBe(200);
    expect((await getUser(tenant, created.id)).body.active).toBe(true);
  });
});

describe("Okta: deactivate and reactivate with PATCH", () => {
  it("deactivates with Okta's path-less replace {active:false}: 200 with the user, still readable", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const created = await oktaCreate(tenant);
    const res = await okta(tenant, `/Users/${created.id}`, { method: "PATCH", json: oktaActivePatch(false) });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body, JSON.stringify(body)).toMatchObject({ id: created.id, userName: "test.user@okta.local", active: false });

    const after = await getUser(tenant, created.id);
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body, JSON.stringify(after.body)).toMatchObject({ active: false, displayName: "Test User", externalId: "00ujl29u0le5T6Aj10h7" });
    const list = await bodyOf<ListJson<UserJson>>(await okta(tenant, OKTA_LOOKUP));
    expect(list.totalResults, JSON.stringify(list)).toBe(1);
  });

  it("reactivates with Okta's path-less replace {active:true}", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const created = await oktaCreate(tenant);
    const off = await okta(tenant, `/Users/${created.id}`, { method: "PATCH", json: oktaActivePatch(false) });
    expect(off.status, await off.text()).toBe(200);
    expect((await getUser(tenant, created.id)).body.active).toBe(false);

    const res = await okta(tenant, `/Users/${created.id}`, { method: "PATCH", json: oktaActivePatch(true) });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.active, JSON.stringify(body)).toBe(true);
    const after = await getUser(tenant, created.id);
    expect(after.body, JSON.stringify(after.body)).toMatchObject({ active: true, userName: "test.user@okta.local" });
  });
});

describe("Okta: import", () => {
  it("pages every user exactly once in a stable order, stepping startIndex by count", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      created.push((await oktaCreate(tenant, { userName: `import${i}@okta.local`, externalId: `00uimport${i}`, emails: [{ primary: true, value: `import${i}@okta.local`, type: "work" }] })).id);
    }
    const readAll = async (): Promise<string[]> => {
      const ids: string[] = [];
      for (let startIndex = 1; startIndex <= 7; startIndex += 3) {
        const res = await okta(tenant, `/Users?startIndex=${startIndex}&count=3`);
        const page = await bodyOf<ListJson<UserJson>>(res);
        expect(res.status, JSON.stringify(page)).toBe(200);
        expectListResponse(page);
        expect(page, JSON.stringify(page)).toMatchObject({ totalResults: 7, startIndex, itemsPerPage: Math.min(3, 8 - startIndex) });
        ids.push(...page.Resources.map((u) => u.id));
      }
      return ids;
    };
    const first = await readAll();
    expect(first).toHaveLength(7);
    expect(new Set(first).size, JSON.stringify(first)).toBe(7);
    expect([...first].sort()).toEqual([...created].sort());
    expect(await readAll(), "the order must be the same on every import").toEqual(first);

    // Okta's real page size: one page of count=100 holds everyone, in the same order.
    const whole = await bodyOf<ListJson<UserJson>>(await okta(tenant, "/Users?startIndex=1&count=100"));
    expect(whole, JSON.stringify(whole)).toMatchObject({ totalResults: 7, startIndex: 1, itemsPerPage: 7 });
    expect(whole.Resources.map((u) => u.id)).toEqual(first);
    const past = await bodyOf<ListJson<UserJson>>(await okta(tenant, "/Users?startIndex=101&count=100"));
    expect(past, JSON.stringify(past)).toMatchObject({ totalResults: 7, startIndex: 101, itemsPerPage: 0, Resources: [] });
  });
});

describe("Okta: delete", () => {
  it("still deletes with DELETE /Users/{id} although Okta never sends it: 204, then 404", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const created = await oktaCreate(tenant);
    const res = await okta(tenant, `/Users/${created.id}`, { method: "DELETE" });
    expect(res.status, await res.text()).toBe(204);
    await expectScimError(await okta(tenant, `/Users/${created.id}`), 404);
    const list = await bodyOf<ListJson<UserJson>>(await okta(tenant, OKTA_LOOKUP));
    expect(list.totalResults, JSON.stringify(list)).toBe(0);
  });
});
