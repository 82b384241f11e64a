/**
 * /Users as Microsoft Entra ID drives it: every request replays a line of
 * /work/shared/IDP-BEHAVIOUR.md ("## Microsoft Entra ID"), in both PATCH dialects (the default,
 * and `?aadOptscim062020`). RFC-level behaviour lives in users.test.ts.
 */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { expectJson } from "./support/expect-response";
import { bodyOf, call, createTenant, type TestTenant } from "./support/http";
import { entra } from "./support/idp";
import type { ListJson } from "./support/scim-json";
import { ENTERPRISE, LIST_RESPONSE, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

/**
 * IDP-BEHAVIOUR.md, Entra, "Create: `POST /Users` … with the enterprise extension URN in
 * `schemas`, `externalId`, `active:true`, `emails[{primary,type:"work",value}]`,
 * `meta:{resourceType:"User"}`, `name{formatted,familyName,givenName}`, `roles:[]`, and
 * sometimes `"addresses":null`" (Microsoft's documented request).
 */
function entraCreateBody(userName: string, externalId: string, email: string): Record<string, unknown> {
  return {
    schemas: [USER, ENTERPRISE],
    externalId,
    userName,
    active: true,
    addresses: null,
    emails: [{ primary: true, type: "work", value: email }],
    meta: { resourceType: "User" },
    name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
    roles: [],
  };
}

/** IDP-BEHAVIOUR.md, Entra, default dialect: "booleans as strings: `{"op":"Replace","path":"active","value":"False"}`". */
function entraActive(value: "True" | "False") {
  return { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value }] };
}

/**
 * IDP-BEHAVIOUR.md, Entra, default dialect: "one op per attribute, paths like
 * `emails[type eq "work"].value`, `name.givenName`, `addresses[type eq "work"].formatted`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`".
 */
const ENTRA_ONE_OP_PER_ATTRIBUTE = {
  schemas: [PATCH_OP],
  Operations: [
    { op: "Replace", path: 'emails[type eq "work"].value', value: "Updated.Email@contoso.example" },
    { op: "Replace", path: "name.givenName", value: "Albert" },
    { op: "Replace", path: "name.familyName", value: "Einstein" },
    { op: "Add", path: `${ENTERPRISE}:employeeNumber`, value: "701984" },
    { op: "Add", path: `${ENTERPRISE}:department`, value: "Physics" },
  ],
};

/** IDP-BEHAVIOUR.md, Entra: "A value-filter path … that matches no element must create it, and several such ops in one request merge into one element." */
const ENTRA_WORK_ADDRESS = {
  schemas: [PATCH_OP],
  Operations: [
    { op: "Add", path: 'addresses[type eq "work"].formatted', value: "1 Microsoft Way, Redmond, WA 98052" },
    { op: "Add", path: 'addresses[type eq "work"].streetAddress', value: "1 Microsoft Way" },
  ],
};

/**
 * IDP-BEHAVIOUR.md, Entra, "PATCH with `?aadOptscim062020` on the tenant URL: lowercase ops,
 * real booleans, several attributes in one path-less op whose keys are paths" (Microsoft's
 * compatibility page example).
 */
const ENTRA_AAD_OPT_MULTI = {
  schemas: [PATCH_OP],
  Operations: [
    {
      op: "replace",
      value: {
        displayName: "Pvlo",
        'emails[type eq "work"].value': "TestBcwqnm@test.microsoft.com",
        "name.givenName": "Gtfd",
        "name.familyName": "Pkqf",
        externalId: "Eqpj",
        [`${ENTERPRISE}:employeeNumber`]: "Eqpj",
      },
    },
  ],
};

interface UserJson {
  schemas: string[];
  id: string;
  userName: string;
  externalId?: string;
  displayName?: string;
  active?: boolean;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  emails?: { value: string; type?: string; primary?: boolean }[];
  addresses?: { type?: string; formatted?: string; streetAddress?: string; primary?: boolean }[];
  roles?: { value?: string; display?: string; type?: string; primary?: boolean }[];
  meta: { resourceType: string; version: string; location: string };
  [ENTERPRISE]?: { employeeNumber?: string; department?: string; manager?: unknown };
  [key: string]: unknown;
}

async function entraCreate(tenant: TestTenant, tag = crypto.randomUUID()): Promise<UserJson> {
  const body = entraCreateBody(`Test_User_${tag}`, `ext-${tag}`, `Test_User_${tag}@testuser.com`);
  const res = await entra(tenant, "/Users", { method: "POST", json: body });
  return expectJson<UserJson>(res, 201);
}

async function getUser(tenant: TestTenant, id: string): Promise<UserJson> {
  return expectJson<UserJson>(await entra(tenant, `/Users/${id}`), 200);
}

async function patch(tenant: TestTenant, id: string, json: unknown, query = ""): Promise<UserJson> {
  const res = await entra(tenant, `/Users/${id}${query}`, { method: "PATCH", json });
  const text = await res.text();
  // 204 is allowed by RFC 7644 §3.5.2; the tests then re-read the user over HTTP anyway.
  expect([200, 204], `PATCH ${JSON.stringify(json)} → ${res.status} ${text}`).toContain(res.status);
  return getUser(tenant, id);
}

async function find(tenant: TestTenant, rawFilter: string): Promise<ListJson<UserJson>> {
  const res = await entra(tenant, `/Users?filter=${rawFilter}`);
  const body = await bodyOf<ListJson<UserJson>>(res);
  expect(res.status, `${rawFilter}: ${JSON.stringify(body)}`).toBe(200);
  expect(body.schemas, JSON.stringify(body)).toEqual([LIST_RESPONSE]);
  return body;
}

describe("Entra: Test Connection", () => {
  it("answers Entra's Test Connection (filter on a random guid, no Content-Type, no Accept) with 200 and an empty ListResponse", async () => {
    const tenant = await createTenant({ provider: "entra" });
    await entraCreate(tenant);
    const request = new Request(`${tenant.baseUrl}/Users?filter=userName eq "${crypto.randomUUID()}"`, {
      headers: { Authorization: `Bearer ${tenant.token}` },
    });
    expect(request.headers.has("Accept")).toBe(false);
    expect(request.headers.has("Content-Type")).toBe(false);
    expect(new URL(request.url).search, "the client percent-encodes the spaces and quotes").toMatch(/userName%20eq%20%22/);
    const res = await call(request.url, { headers: request.headers });
    const body = await bodyOf<ListJson<UserJson>>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(res.headers.get("Content-Type"), JSON.stringify(body)).toMatch(/^application\/scim\+json/);
    expect(body, JSON.stringify(body)).toEqual({
      schemas: [LIST_RESPONSE],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
  });
});

describe("Entra: matching", () => {
  it('matches on externalId eq "…"', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    await entraCreate(tenant);
    const body = await find(tenant, `externalId eq "${user.externalId}"`);
    expect(body.totalResults, JSON.stringify(body)).toBe(1);
    expect(body.Resources.map((u) => u.id)).toEqual([user.id]);
  });

  it("matches on an unquoted value as in Microsoft's docs (externalId eq jyoung)", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const res = await entra(tenant, "/Users", { method: "POST", json: entraCreateBody("jyoung@contoso.example", "jyoung", "jyoung@contoso.example") });
    const user = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(user)).toBe(201);
    await entraCreate(tenant);
    const body = await find(tenant, "externalId eq jyoung");
    expect(body.totalResults, JSON.stringify(body)).toBe(1);
    expect(body.Resources[0]?.id).toBe(user.id);
  });

  it('matches on userName eq "…" and externalId eq "…", and only when both hold', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    const other = await entraCreate(tenant);
    const both = await find(tenant, `userName eq "${user.userName}" and externalId eq "${user.externalId}"`);
    expect(both.Resources.map((u) => u.id), JSON.stringify(both)).toEqual([user.id]);
    const mixed = await find(tenant, `userName eq "${user.userName}" and externalId eq "${other.externalId}"`);
    expect(mixed.totalResults, JSON.stringify(mixed)).toBe(0);
  });

  it('matches on emails[type eq "work"].value eq "…", in any case of the address', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant, "Mail-Match");
    await entraCreate(tenant);
    const email = "Test_User_Mail-Match@testuser.com";
    for (const value of [email, email.toLowerCase(), email.toUpperCase()]) {
      const body = await find(tenant, `emails[type eq "work"].value eq "${value}"`);
      expect(body.Resources.map((u) => u.id), `${value}: ${JSON.stringify(body)}`).toEqual([user.id]);
    }
    const none = await find(tenant, `emails[type eq "work"].value eq "nobody@testuser.com"`);
    expect(none.totalResults, JSON.stringify(none)).toBe(0);
  });
});

describe("Entra: create", () => {
  it("creates a user from Entra's exact body with Content-Type application/scim+json; charset=utf-8", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const json = entraCreateBody("Test_User_ab6490ee@testuser.com", "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "Test_User_fd0ea19b@testuser.com");
    const res = await entra(tenant, "/Users", { method: "POST", json });
    const user = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(user)).toBe(201);
    expect(res.headers.get("Location"), JSON.stringify(user)).toBe(`${tenant.baseUrl}/Users/${user.id}`);
    const expected = {
      userName: "Test_User_ab6490ee@testuser.com",
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      active: true,
      emails: [{ primary: true, type: "work", value: "Test_User_fd0ea19b@testuser.com" }],
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      meta: { resourceType: "User" },
    };
    expect(user, JSON.stringify(user)).toMatchObject(expected);
    expect(user.addresses, JSON.stringify(user)).toBeUndefined();
    expect(user.roles ?? [], JSON.stringify(user)).toEqual([]);
    const stored = await getUser(tenant, user.id);
    expect(stored, JSON.stringify(stored)).toMatchObject(expected);
  });

  it("answers Entra's duplicate create with 409 uniqueness and an Error body, keeping one user", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant, "dup");
    const res = await entra(tenant, "/Users", { method: "POST", json: entraCreateBody(user.userName, "ext-dup-retry", "other@testuser.com") });
    await expectScimError(res, 409, "uniqueness");
    const list = await find(tenant, `userName eq "${user.userName}"`);
    expect(list.Resources.map((u) => u.id), JSON.stringify(list)).toEqual([user.id]);
    expect(list.Resources[0]?.externalId).toBe("ext-dup");
  });
});

describe("Entra: PATCH, default dialect", () => {
  it('accepts Entra\'s string booleans in Replace active: "False" soft-deletes (still readable and listed), "True" restores', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    await entraCreate(tenant);

    const off = await patch(tenant, user.id, entraActive("False"));
    expect(off.active, JSON.stringify(off)).toBe(false);
    expect(off.userName).toBe(user.userName);
    const listed = await find(tenant, `userName eq "${user.userName}"`);
    expect(listed.Resources.map((u) => [u.id, u.active]), JSON.stringify(listed)).toEqual([[user.id, false]]);
    const all = await bodyOf<ListJson<UserJson>>(await entra(tenant, "/Users"));
    expect(all.totalResults, JSON.stringify(all)).toBe(2);

    const on = await patch(tenant, user.id, entraActive("True"));
    expect(on.active, JSON.stringify(on)).toBe(true);
  });

  it("applies capitalised ops one attribute per op (emails[type eq work].value, name.*, enterprise employeeNumber and department), never ignoring them", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    const after = await patch(tenant, user.id, ENTRA_ONE_OP_PER_ATTRIBUTE);
    const context = JSON.stringify(after);
    expect(after.emails, context).toEqual([{ primary: true, type: "work", value: "Updated.Email@contoso.example" }]);
    expect(after.name, context).toEqual({ formatted: "givenName familyName", familyName: "Einstein", givenName: "Albert" });
    expect(after[ENTERPRISE], context).toMatchObject({ employeeNumber: "701984", department: "Physics" });
    expect(after.schemas, context).toContain(ENTERPRISE);
    expect(after.meta.version, context).not.toBe(user.meta.version);
    const byMail = await find(tenant, `emails[type eq "work"].value eq "updated.email@contoso.example"`);
    expect(byMail.Resources.map((u) => u.id), JSON.stringify(byMail)).toEqual([user.id]);
  });

  it("applies a capitalised Remove on an enterprise attribute", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    await patch(tenant, user.id, ENTRA_ONE_OP_PER_ATTRIBUTE);
    const after = await patch(tenant, user.id, { schemas: [PATCH_OP], Operations: [{ op: "Remove", path: `${ENTERPRISE}:department` }] });
    const context = JSON.stringify(after);
    expect(after[ENTERPRISE]?.department, context).toBeUndefined();
    expect(after[ENTERPRISE]?.employeeNumber, context).toBe("701984");
  });

  it('creates ONE work address from several addresses[type eq "work"] ops that match nothing', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    expect(user.addresses).toBeUndefined();
    const after = await patch(tenant, user.id, ENTRA_WORK_ADDRESS);
    const context = JSON.stringify(after);
    const work = (after.addresses ?? []).filter((a) => a.type === "work");
    expect(work, context).toHaveLength(1);
    expect(work[0], context).toMatchObject({ type: "work", formatted: "1 Microsoft Way, Redmond, WA 98052", streetAddress: "1 Microsoft Way" });
    expect(after.addresses, context).toHaveLength(1);
  });

  it('creates the work email when a Replace on emails[type eq "work"].value matches no element', async () => {
    const tenant = await createTenant({ provider: "entra" });
    const json = { ...entraCreateBody("no-mail@contoso.example", "no-mail", "x@contoso.example"), emails: [] };
    const res = await entra(tenant, "/Users", { method: "POST", json });
    const user = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(user)).toBe(201);
    expect(user.emails ?? [], JSON.stringify(user)).toEqual([]);
    const after = await patch(tenant, user.id, {
      schemas: [PATCH_OP],
      Operations: [{ op: "Replace", path: 'emails[type eq "work"].value', value: "new.mail@contoso.example" }],
    });
    expect(after.emails, JSON.stringify(after)).toEqual([expect.objectContaining({ type: "work", value: "new.mail@contoso.example" })]);
  });

  it("stores Entra's bare-id manager and returns it as {value}, never a bare string", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const boss = await entraCreate(tenant);
    const user = await entraCreate(tenant);
    // IDP-BEHAVIOUR.md, Entra: "Manager: `{"op":"Add","path":"urn:…:enterprise:2.0:User:manager","value":"2c2f…"}` (a bare id string)".
    const after = await patch(tenant, user.id, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: `${ENTERPRISE}:manager`, value: boss.id }] });
    const manager = after[ENTERPRISE]?.manager;
    expect(typeof manager, JSON.stringify(after)).toBe("object");
    expect(manager, JSON.stringify(after)).toMatchObject({ value: boss.id });
    const listed = await find(tenant, `userName eq "${user.userName}"`);
    expect(listed.Resources[0]?.[ENTERPRISE]?.manager, JSON.stringify(listed)).toMatchObject({ value: boss.id });
  });

  it("accepts roles whose values arrive as JSON strings, storing them as role objects", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    // IDP-BEHAVIOUR.md, Entra: "`roles` values may arrive as JSON strings".
    const after = await patch(tenant, user.id, {
      schemas: [PATCH_OP],
      Operations: [
        {
          op: "Add",
          path: "roles",
          value: ['{"value":"Admin","display":"Administrator","type":"WindowsAzureActiveDirectoryRole","primary":true}', "Reader"],
        },
      ],
    });
    const context = JSON.stringify(after);
    expect(after.roles, context).toEqual([
      { value: "Admin", display: "Administrator", type: "WindowsAzureActiveDirectoryRole", primary: true },
      { value: "Reader" },
    ]);
  });

  it("rejects a capitalised op it cannot apply instead of answering 200 and ignoring it", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    const res = await entra(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "active", value: "Maybe" }] },
    });
    await expectScimError(res, 400, "invalidValue");
    expect((await getUser(tenant, user.id)).active).toBe(true);
  });
});

describe("Entra: PATCH with ?aadOptscim062020", () => {
  it("applies one lowercase path-less replace whose keys are paths, on the flagged tenant URL", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    const after = await patch(tenant, user.id, ENTRA_AAD_OPT_MULTI, "?aadOptscim062020");
    const context = JSON.stringify(after);
    expect(after, context).toMatchObject({
      displayName: "Pvlo",
      externalId: "Eqpj",
      name: { givenName: "Gtfd", familyName: "Pkqf", formatted: "givenName familyName" },
      emails: [{ primary: true, type: "work", value: "TestBcwqnm@test.microsoft.com" }],
      [ENTERPRISE]: { employeeNumber: "Eqpj" },
    });
    expect(after.emails, context).toHaveLength(1);
  });

  it("deactivates and reactivates with real booleans in lowercase ops", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    const off = await patch(tenant, user.id, { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] }, "?aadOptscim062020");
    expect(off.active, JSON.stringify(off)).toBe(false);
    const on = await patch(tenant, user.id, { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: true }] }, "?aadOptscim062020");
    expect(on.active, JSON.stringify(on)).toBe(true);
  });

  it("reads and lists with the flag on the tenant URL too", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    const res = await entra(tenant, `/Users/${user.id}?aadOptscim062020`);
    const body = await bodyOf<UserJson>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.id).toBe(user.id);
    const list = await entra(tenant, `/Users?aadOptscim062020&filter=userName eq "${user.userName}"`);
    const found = await bodyOf<ListJson<UserJson>>(list);
    expect(list.status, JSON.stringify(found)).toBe(200);
    expect(found.Resources.map((u) => u.id), JSON.stringify(found)).toEqual([user.id]);
  });
});

describe("Entra: hard delete", () => {
  it("hard-deletes with DELETE /Users/{id}: 204, then 404, and the row is gone", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await entraCreate(tenant);
    await patch(tenant, user.id, entraActive("False"));
    const res = await entra(tenant, `/Users/${user.id}`, { method: "DELETE" });
    expect(res.status, await res.text()).toBe(204);
    await expectScimError(await entra(tenant, `/Users/${user.id}`), 404);
    const row = await (await shardOf(tenant.id)).prepare("SELECT id FROM users WHERE tenant_id = ? AND id = ?").bind(tenant.id, user.id).first();
    expect(row).toBeNull();
    const list = await find(tenant, `userName eq "${user.userName}"`);
    expect(list.totalResults, JSON.stringify(list)).toBe(0);
  });
});
