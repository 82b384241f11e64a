/** /Users: RFC 7644 behaviours over HTTP (issue: users). IdP dialects live in okta-/entra- files. */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { ENTERPRISE, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

interface UserJson {
  id: string;
  userName: string;
  active?: boolean;
  emails?: { value: string; type?: string; primary?: boolean }[];
  groups?: unknown[];
  meta: { resourceType: string; created: string; lastModified: string; location: string; version: string };
  [key: string]: unknown;
}

async function createUser(tenant: TestTenant, fields: Record<string, unknown> = {}): Promise<UserJson> {
  const res = await scim(tenant, "/Users", {
    method: "POST",
    json: { schemas: [USER], userName: `user-${crypto.randomUUID()}@example.com`, ...fields },
  });
  const body = await bodyOf<UserJson>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function userRowCount(tenantId: string): Promise<number> {
  const row = await (await shardOf(tenantId)).prepare("SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?").bind(tenantId).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("POST /Users", () => {
  it("creates a user: 201, Location, ETag, meta, and no password in the response", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, "/Users", {
      method: "POST",
      json: {
        schemas: [USER, ENTERPRISE],
        userName: "alice@example.com",
        name: { givenName: "Alice", familyName: "Liddell" },
        emails: [{ value: "alice@example.com", type: "work", primary: true }],
        password: "hunter2!",
        active: true,
        [ENTERPRISE]: { employeeNumber: "42", manager: { value: "boss" } },
      },
    });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(res.headers.get("Location")).toBe(`${tenant.baseUrl}/Users/${body.id}`);
    expect(res.headers.get("ETag")).toBe(body.meta.version);
    expect(body).toMatchObject({
      userName: "alice@example.com",
      name: { givenName: "Alice", familyName: "Liddell" },
      active: true,
      [ENTERPRISE]: { employeeNumber: "42", manager: { value: "boss" } },
      meta: { resourceType: "User", location: `${tenant.baseUrl}/Users/${body.id}` },
    });
    expect(body.groups ?? []).toEqual([]);
    expect(JSON.stringify(body)).not.toContain("hunter2");
    const stored = await (await shardOf(tenant.id)).prepare("SELECT doc FROM users WHERE tenant_id = ? AND id = ?").bind(tenant.id, body.id).first<{ doc: string }>();
    expect(stored?.doc).not.toContain("hunter2");
  });

  it("applies attributes on the create response", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, "/Users?attributes=userName", { method: "POST", json: { schemas: [USER], userName: "slim@example.com", title: "t" } });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toEqual({ schemas: [USER], id: body.id, userName: "slim@example.com" });
  });

  it("ignores id and meta sent by the client (readOnly)", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { id: "chosen-id", meta: { resourceType: "User", version: 'W/"99"' } });
    expect(user.id).not.toBe("chosen-id");
    expect(user.meta.version).toBe('W/"1"');
  });

  it("accepts attribute names in another case (RFC 7643 §2.1)", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], UserName: "bob@example.com", ACTIVE: false } });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ userName: "bob@example.com", active: false });
  });

  it.each([
    ["Alice vs alice", "Alice@Example.com", "alice@example.com"],
    ["NFC vs NFD é", "jos\u00e9@example.com", "jose\u0301@example.com"],
  ])("answers 409 uniqueness when userName differs only by %s", async (_label, first, second) => {
    const tenant = await createTenant();
    await createUser(tenant, { userName: first });
    const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: second } });
    await expectScimError(res, 409, "uniqueness");
    expect(await userRowCount(tenant.id)).toBe(1);
  });

  it("keeps externalId case-exact: ABC and abc are different users", async () => {
    const tenant = await createTenant();
    await createUser(tenant, { externalId: "ABC" });
    await createUser(tenant, { externalId: "abc" });
    const res = await scim(tenant, `/Users?filter=${encodeURIComponent('externalId eq "abc"')}`);
    expect((await bodyOf<ListJson<UserJson>>(res)).totalResults).toBe(1);
  });

  it("lets the same userName exist in two tenants", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    await createUser(a, { userName: "same@example.com" });
    await createUser(b, { userName: "same@example.com" });
  });

  it.each([
    ["missing userName", { schemas: [USER] }, "invalidValue"],
    ["userName: 123", { schemas: [USER], userName: 123 }, "invalidValue"],
    ["empty userName", { schemas: [USER], userName: "" }, "invalidValue"],
    ["userName over 256 characters", { schemas: [USER], userName: "a".repeat(257) }, "invalidValue"],
    ["a control character in userName", { schemas: [USER], userName: "a\u0007b" }, "invalidValue"],
    ["a zero-width character in userName", { schemas: [USER], userName: "a\u200bb" }, "invalidValue"],
    ['active: "yes"', { schemas: [USER], userName: "x@example.com", active: "yes" }, "invalidValue"],
    ['emails: "x"', { schemas: [USER], userName: "x@example.com", emails: "x" }, "invalidValue"],
    ["missing schemas", { userName: "x@example.com" }, "invalidSyntax"],
  ])("answers 400 to %s and stores nothing", async (_label, json, scimType) => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/Users", { method: "POST", json }), 400, scimType);
    expect(await userRowCount(tenant.id)).toBe(0);
  });

  it("answers 400 invalidSyntax to malformed JSON and an empty body", async () => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/Users", { method: "POST", body: '{"schemas": [', headers: { "Content-Type": "application/scim+json" } }), 400, "invalidSyntax");
    await expectScimError(await scim(tenant, "/Users", { method: "POST", body: "", headers: { "Content-Type": "application/scim+json" } }), 400, "invalidSyntax");
    expect(await userRowCount(tenant.id)).toBe(0);
  });

  it("answers 415 to another media type, and accepts application/json with a charset", async () => {
    const tenant = await createTenant();
    const body = JSON.stringify({ schemas: [USER], userName: "media@example.com" });
    await expectScimError(await scim(tenant, "/Users", { method: "POST", body, headers: { "Content-Type": "text/plain" } }), 415);
    await expectScimError(await scim(tenant, "/Users", { method: "POST", body, headers: { "Content-Type": "application/x-www-form-urlencoded" } }), 415);
    expect(await userRowCount(tenant.id)).toBe(0);
    const ok = await scim(tenant, "/Users", { method: "POST", body, headers: { "Content-Type": "application/json; charset=utf-8" } });
    expect(ok.status).toBe(201);
  });

  it("answers 413 to a body over 1 MB, whatever Content-Length says", async () => {
    const tenant = await createTenant();
    const big = JSON.stringify({ schemas: [USER], userName: "big@example.com", title: "x".repeat(1_100_000) });
    const stream = new Blob([big]).stream();
    const res = await scim(tenant, "/Users", { method: "POST", body: stream, headers: { "Content-Type": "application/scim+json" } });
    await expectScimError(res, 413);
    expect(await userRowCount(tenant.id)).toBe(0);
  });

  it("never lets roles, groups or __proto__ in a body change privileges or prototypes", async () => {
    const tenant = await createTenant();
    const body = `{"schemas":["${USER}"],"userName":"proto@example.com","__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}},"groups":[{"value":"g1"}]}`;
    const res = await scim(tenant, "/Users", { method: "POST", body, headers: { "Content-Type": "application/scim+json" } });
    const user = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(user)).toBe(201);
    expect(user.groups ?? []).toEqual([]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(JSON.stringify(user)).not.toContain("admin");
  });
});

describe("GET /Users/{id}", () => {
  it("returns the user with an ETag, and 304 for a matching If-None-Match", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant);
    const res = await scim(tenant, `/Users/${user.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/scim\+json/);
    expect(res.headers.get("ETag")).toBe(user.meta.version);
    expect(await res.json()).toEqual(user);
    const cached = await scim(tenant, `/Users/${user.id}`, { headers: { "If-None-Match": user.meta.version } });
    expect(cached.status).toBe(304);
  });

  it("answers 404 to another tenant's user id, and to a malformed id", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    const user = await createUser(a);
    await expectScimError(await scim(b, `/Users/${user.id}`), 404);
    await expectScimError(await scim(b, `/Users/${user.id}`, { method: "PUT", json: { schemas: [USER], userName: "steal@example.com" } }), 404);
    await expectScimError(await scim(b, `/Users/${user.id}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: false }] } }), 404);
    await expectScimError(await scim(b, `/Users/${user.id}`, { method: "DELETE" }), 404);
    await expectScimError(await scim(a, "/Users/not-a-uuid'--"), 404);
    expect((await scim(a, `/Users/${user.id}`)).status).toBe(200);
  });

  it("applies attributes and excludedAttributes, keeping id and schemas", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { displayName: "Dee", name: { givenName: "D", familyName: "E" } });
    const only = await bodyOf<UserJson>(await scim(tenant, `/Users/${user.id}?attributes=userName,name.givenName`));
    expect(only).toEqual({ schemas: [USER], id: user.id, userName: user.userName, name: { givenName: "D" } });
    const without = await bodyOf<UserJson>(await scim(tenant, `/Users/${user.id}?excludedAttributes=groups,displayName`));
    expect(without.displayName).toBeUndefined();
    expect(without.groups).toBeUndefined();
    expect(without.userName).toBe(user.userName);
  });
});

describe("GET /Users (list and filter)", () => {
  it("pages with startIndex and count in a stable order, with integer counts", async () => {
    const tenant = await createTenant();
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await createUser(tenant, { userName: `p${i}@example.com` }));
    const first = await bodyOf<ListJson<UserJson>>(await scim(tenant, "/Users?startIndex=1&count=2"));
    expect(first).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 2 });
    const second = await bodyOf<ListJson<UserJson>>(await scim(tenant, "/Users?startIndex=3&count=2"));
    const third = await bodyOf<ListJson<UserJson>>(await scim(tenant, "/Users?startIndex=5&count=2"));
    const ids = [...first.Resources, ...second.Resources, ...third.Resources].map((u) => u.id);
    expect(ids).toEqual(created.map((u) => u.id));
  });

  it("treats startIndex below 1 as 1, a negative count as 0, and caps count", async () => {
    const tenant = await createTenant();
    await createUser(tenant);
    const zero = await bodyOf<ListJson<UserJson>>(await scim(tenant, "/Users?startIndex=0&count=-5"));
    expect(zero).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 0, Resources: [] });
    const capped = await bodyOf<ListJson<UserJson>>(await scim(tenant, "/Users?startIndex=-3&count=100000"));
    expect(capped).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
  });

  it("answers 400 invalidValue to count=abc", async () => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/Users?count=abc"), 400, "invalidValue");
  });

  it.each([
    ['userName eq "F1@Example.com"', ["f1@example.com"]],
    ['userName sw "f"', ["f1@example.com", "f2@example.com", "f_3%@example.com"]],
    ['userName co "_3%"', ["f_3%@example.com"]],
    ['userName sw "f%"', []],
    ['userName co "_"', ["f_3%@example.com"]],
    ['userName ew "2@EXAMPLE.COM"', ["f2@example.com"]],
    ['title pr and not (title eq "boss")', ["f2@example.com"]],
    ['active eq false', ["f2@example.com"]],
    ['emails[type eq "work" and value co "work"].value pr', ["f1@example.com"]],
    ['emails[type eq "work"].value eq "F1.WORK@corp.example"', ["f1@example.com"]],
    ['emails.value eq "f1.work@corp.example"', ["f1@example.com"]],
    ['name.familyName eq "one" or name.familyName eq "TWO"', ["f1@example.com", "f2@example.com"]],
    [`${ENTERPRISE}:employeeNumber eq "7"`, ["f_3%@example.com"]],
    ['userName eq "x\' OR 1=1--"', []],
  ])("filters %s", async (filter, expected) => {
    const tenant = await createTenant();
    await createUser(tenant, { userName: "f1@example.com", title: "boss", name: { familyName: "One" }, emails: [{ value: "f1.work@corp.example", type: "work" }] });
    await createUser(tenant, { userName: "f2@example.com", title: "dev", active: false, name: { familyName: "Two" } });
    await createUser(tenant, { userName: "f_3%@example.com", [ENTERPRISE]: { employeeNumber: "7" } });
    const res = await scim(tenant, `/Users?filter=${encodeURIComponent(filter)}`);
    const body = await bodyOf<ListJson<UserJson>>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.Resources.map((u) => u.userName).sort(), filter).toEqual([...expected].sort());
    expect(body.totalResults).toBe(expected.length);
  });

  it("finds with co/sw/ew values longer than D1's 50-byte LIKE limit", async () => {
    const tenant = await createTenant();
    const long = `${"very-long-local-part-".repeat(4)}@example.com`;
    await createUser(tenant, { userName: long });
    for (const op of ["co", "sw", "ew"]) {
      const res = await scim(tenant, `/Users?filter=${encodeURIComponent(`userName ${op} "${long}"`)}`);
      expect((await bodyOf<ListJson<UserJson>>(res)).totalResults, op).toBe(1);
    }
  });

  it.each([
    ["userName eq", "invalidFilter"],
    ['a eq "x" or', "invalidFilter"],
    ['userName xx "a"', "invalidFilter"],
    ['userName eq "unterminated', "invalidFilter"],
    ["userName) OR 1=1--", "invalidFilter"],
    ['nickname2 eq "x"', "invalidFilter"],
    ['password eq "x"', "invalidFilter"],
    [`${"(".repeat(40)}userName pr${")".repeat(40)}`, "invalidFilter"],
    [`userName eq "${"x".repeat(5000)}"`, "invalidFilter"],
  ])("answers 400 to the filter %s", async (filter, scimType) => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, `/Users?filter=${encodeURIComponent(filter)}`), 400, scimType);
  });

  it("answers 400 invalidFilter rather than binding more than D1's 100 parameters", async () => {
    const tenant = await createTenant();
    const filter = Array.from({ length: 120 }, (_, i) => `userName eq "u${i}"`).join(" or ");
    await expectScimError(await scim(tenant, `/Users?filter=${encodeURIComponent(filter)}`), 400, "invalidFilter");
  });

  it("sorts by sortBy/sortOrder", async () => {
    const tenant = await createTenant();
    for (const name of ["b@example.com", "C@example.com", "a@example.com"]) await createUser(tenant, { userName: name });
    const asc = await bodyOf<ListJson<UserJson>>(await scim(tenant, "/Users?sortBy=userName"));
    expect(asc.Resources.map((u) => u.userName)).toEqual(["a@example.com", "b@example.com", "C@example.com"]);
    const desc = await bodyOf<ListJson<UserJson>>(await scim(tenant, "/Users?sortBy=userName&sortOrder=descending"));
    expect(desc.Resources.map((u) => u.userName)).toEqual(["C@example.com", "b@example.com", "a@example.com"]);
  });

  it("pages with RFC 9865 cursors", async () => {
    const tenant = await createTenant();
    const created = [];
    for (let i = 0; i < 5; i++) created.push((await createUser(tenant)).id);
    const seen: string[] = [];
    let cursor = "";
    for (let page = 0; page < 5; page++) {
      const body = await bodyOf<ListJson<UserJson>>(await scim(tenant, `/Users?count=2&cursor=${encodeURIComponent(cursor)}`));
      seen.push(...body.Resources.map((u) => u.id));
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    expect(seen).toEqual(created);
    await expectScimError(await scim(tenant, "/Users?cursor=bogus"), 400, "invalidCursor");
  });

  it("searches with POST /Users/.search", async () => {
    const tenant = await createTenant();
    await createUser(tenant, { userName: "search@example.com" });
    const res = await scim(tenant, "/Users/.search", {
      method: "POST",
      json: { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: 'userName eq "search@example.com"', count: 10 },
    });
    expect((await bodyOf<ListJson<UserJson>>(res)).totalResults).toBe(1);
  });
});

describe("PUT /Users/{id}", () => {
  it("replaces the document, ignores readOnly values, bumps the version", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { displayName: "Old", title: "t" });
    const res = await scim(tenant, `/Users/${user.id}`, {
      method: "PUT",
      json: { schemas: [USER], id: "other", userName: user.userName, displayName: "New", meta: { version: 'W/"77"' }, groups: [{ value: "x" }] },
    });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ id: user.id, displayName: "New", meta: { version: 'W/"2"' } });
    expect(body.title).toBeUndefined();
    expect(body.groups ?? []).toEqual([]);
  });

  it("never creates: PUT of an unknown id is 404", async () => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, `/Users/${crypto.randomUUID()}`, { method: "PUT", json: { schemas: [USER], userName: "ghost@example.com" } }), 404);
    expect(await userRowCount(tenant.id)).toBe(0);
  });

  it("answers 412 to a stale If-Match and changes nothing", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { displayName: "Keep" });
    const res = await scim(tenant, `/Users/${user.id}`, {
      method: "PUT",
      headers: { "If-Match": 'W/"9"' },
      json: { schemas: [USER], userName: user.userName, displayName: "Lost" },
    });
    await expectScimError(res, 412);
    expect((await bodyOf<UserJson>(await scim(tenant, `/Users/${user.id}`))).displayName).toBe("Keep");
  });

  it("answers 409 when the new userName belongs to another user", async () => {
    const tenant = await createTenant();
    const a = await createUser(tenant, { userName: "taken@example.com" });
    const b = await createUser(tenant);
    await expectScimError(await scim(tenant, `/Users/${b.id}`, { method: "PUT", json: { schemas: [USER], userName: "TAKEN@example.com" } }), 409, "uniqueness");
    expect((await bodyOf<UserJson>(await scim(tenant, `/Users/${a.id}`))).userName).toBe("taken@example.com");
  });
});

describe("PATCH /Users/{id}", () => {
  it("applies operations atomically and returns 200 with the user", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { displayName: "A" });
    const res = await scim(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "B" }, { op: "add", path: "title", value: "CTO" }] },
    });
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ displayName: "B", title: "CTO", meta: { version: 'W/"2"' } });
  });

  it("changes nothing, version included, when an operation fails", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { displayName: "A" });
    const res = await scim(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "B" }, { op: "replace", path: "active", value: "yes" }] },
    });
    await expectScimError(res, 400, "invalidValue");
    expect(await bodyOf<UserJson>(await scim(tenant, `/Users/${user.id}`))).toEqual(user);
  });

  it("does not bump the version for a no-op", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { displayName: "Same" });
    const res = await scim(tenant, `/Users/${user.id}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "Same" }] } });
    expect((await bodyOf<UserJson>(res)).meta.version).toBe('W/"1"');
  });

  it.each([
    ["PATCH on id", [{ op: "replace", path: "id", value: "x" }], "mutability"],
    ["PATCH on meta", [{ op: "replace", path: "meta.created", value: "2020-01-01T00:00:00Z" }], "mutability"],
    ["a path that does not parse", [{ op: "replace", path: 'emails[type eq]', value: "x" }], "invalidPath"],
    ["remove without a path", [{ op: "remove" }], "noTarget"],
    ["an unknown op", [{ op: "copy", path: "title", value: "x" }], "invalidSyntax"],
    ["removing userName", [{ op: "remove", path: "userName" }], "invalidValue"],
  ])("answers 400 to %s", async (_label, Operations, scimType) => {
    const tenant = await createTenant();
    const user = await createUser(tenant);
    await expectScimError(await scim(tenant, `/Users/${user.id}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations } }), 400, scimType);
    expect(await bodyOf<UserJson>(await scim(tenant, `/Users/${user.id}`))).toEqual(user);
  });

  it("answers 400 invalidSyntax to a PatchOp without Operations", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant);
    await expectScimError(await scim(tenant, `/Users/${user.id}`, { method: "PATCH", json: { schemas: [PATCH_OP] } }), 400, "invalidSyntax");
  });

  it("answers 412 to a stale If-Match", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant);
    const res = await scim(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      headers: { "If-Match": 'W/"5"' },
      json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "title", value: "x" }] },
    });
    await expectScimError(res, 412);
  });

  it("loses no update when PATCHes race on one user", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant);
    const titles = ["t1", "t2", "t3"];
    const results = await Promise.all(
      titles.map((t, i) =>
        scim(tenant, `/Users/${user.id}`, {
          method: "PATCH",
          json: { schemas: [PATCH_OP], Operations: [{ op: "add", path: "phoneNumbers", value: [{ value: `+1 555 000${i}`, type: t }] }] },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const final = await bodyOf<UserJson>(await scim(tenant, `/Users/${user.id}`));
    expect((final.phoneNumbers as unknown[]).length).toBe(3);
  });
});

describe("DELETE /Users/{id}", () => {
  it("deletes (204), frees the userName, then answers 404", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { userName: "gone@example.com" });
    expect((await scim(tenant, `/Users/${user.id}`, { method: "DELETE" })).status).toBe(204);
    await expectScimError(await scim(tenant, `/Users/${user.id}`), 404);
    await expectScimError(await scim(tenant, `/Users/${user.id}`, { method: "DELETE" }), 404);
    await createUser(tenant, { userName: "gone@example.com" });
  });
});

describe("deprovisioning and seats", () => {
  it("keeps a deactivated user readable and listed, and counts active seats", async () => {
    const tenant = await createTenant();
    const a = await createUser(tenant);
    await createUser(tenant);
    const res = await scim(tenant, `/Users/${a.id}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] } });
    expect((await bodyOf<UserJson>(res)).active).toBe(false);
    expect((await scim(tenant, `/Users/${a.id}`)).status).toBe(200);
    expect((await bodyOf<ListJson<UserJson>>(await scim(tenant, "/Users"))).totalResults).toBe(2);
    const view = await (await admin(`/tenants/${tenant.id}`)).json<{ users: number; activeUsers: number }>();
    expect(view).toMatchObject({ users: 2, activeUsers: 1 });
  });
});

describe("unsupported endpoints and methods", () => {
  it("answers 501 to /Me", async () => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/Me", { method: "POST", json: {} }), 501);
  });

  it("answers 405 with Allow to PUT on the collection", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, "/Users", { method: "PUT", json: { schemas: [USER], userName: "x@example.com" } });
    await expectScimError(res, 405);
    expect(res.headers.get("Allow")).toBe("GET, POST");
  });

  it("answers 404 with a SCIM error to an unknown path", async () => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/Nope"), 404);
  });
});
