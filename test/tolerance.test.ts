/**
 * What real SCIM clients and test suites send beyond the letter of RFC 7644 (issue 13, item 4):
 * trailing slashes and endpoint names in another case, removing a whole extension by PATCH,
 * and `attributes` carrying a value filter (Microsoft's reference client).
 */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { ENTERPRISE, GROUP, PATCH_OP, USER } from "./support/urns";

async function createUser(tenant: TestTenant, body: Record<string, unknown> = {}): Promise<{ id: string }> {
  const res = await scim(tenant, "/Users", {
    method: "POST",
    json: { schemas: [USER], userName: `u-${crypto.randomUUID()}`, ...body },
  });
  const created = await bodyOf<{ id: string }>(res);
  expect(res.status, JSON.stringify(created)).toBe(201);
  return created;
}

describe("endpoint paths", () => {
  it.each([
    ["/Users/", 200],
    ["/users", 200],
    ["/USERS/", 200],
    ["/groups/", 200],
    ["/serviceproviderconfig", 200],
    ["/ServiceProviderConfig/", 200],
    ["/resourcetypes/", 200],
    ["/schemas", 200],
  ])("GET %s answers %i like the canonical path", async (path, status) => {
    const tenant = await createTenant();
    const res = await scim(tenant, path);
    const body = await bodyOf(res);
    expect(res.status, JSON.stringify(body)).toBe(status);
  });

  it("serves a filter on /Users/ and a user at /users/{id}/", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { userName: "trailing@example.com" });
    const list = await bodyOf<ListJson<unknown>>(await scim(tenant, `/Users/?filter=${encodeURIComponent('userName eq "trailing@example.com"')}`));
    expect(list.totalResults, JSON.stringify(list)).toBe(1);
    const res = await scim(tenant, `/users/${user.id}/`);
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toMatchObject({ id: user.id, userName: "trailing@example.com" });
  });

  it("writes through /groups/{id}/ and keeps the id's own spelling", async () => {
    const tenant = await createTenant();
    const created = await bodyOf<{ id: string }>(
      await scim(tenant, "/groups/", { method: "POST", json: { schemas: [GROUP], displayName: "Lower" } }),
    );
    const patched = await scim(tenant, `/GROUPS/${created.id}/`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "Renamed" }] },
    });
    expect(patched.status).toBe(204);
    expect(await bodyOf(await scim(tenant, `/Groups/${created.id}`))).toMatchObject({ displayName: "Renamed" });
    // Ids are case-exact: an upper-cased id is another (unknown) group.
    await expectScimError(await scim(tenant, `/Groups/${created.id.toUpperCase()}`), 404);
  });
});

describe("PATCH removing a whole extension", () => {
  it("removes the enterprise extension and its URN from schemas", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { employeeNumber: "42", department: "R&D" } });
    const res = await scim(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "remove", path: ENTERPRISE }] },
    });
    const body = await bodyOf<Record<string, unknown>>(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body[ENTERPRISE], JSON.stringify(body)).toBeUndefined();
    expect(body.schemas).toEqual([USER]);
    const read = await bodyOf<Record<string, unknown>>(await scim(tenant, `/Users/${user.id}`));
    expect(read.schemas).toEqual([USER]);
    expect(read[ENTERPRISE]).toBeUndefined();
    // An extension the resource type does not have is 400 invalidPath, changing nothing.
    const group = await bodyOf<{ id: string; meta: { version: string } }>(
      await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Ext" } }),
    );
    const refused = await scim(tenant, `/Groups/${group.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "remove", path: ENTERPRISE }] },
    });
    await expectScimError(refused, 400, "invalidPath");
    const unchanged = await bodyOf<{ meta: { version: string } }>(await scim(tenant, `/Groups/${group.id}`));
    expect(unchanged.meta.version).toBe(group.meta.version);
  });
});

describe("attributes with a value filter", () => {
  it("accepts attributes=emails[type eq \"work\"] as emails", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, {
      userName: "vf@example.com",
      emails: [{ type: "work", value: "vf@example.com", primary: true }],
    });
    const query = encodeURIComponent('emails[type eq "work"],userName');
    const res = await scim(tenant, `/Users?attributes=${query}`);
    const list = await bodyOf<ListJson<Record<string, unknown>>>(res);
    expect(res.status, JSON.stringify(list)).toBe(200);
    expect(list.Resources[0], JSON.stringify(list)).toMatchObject({ id: user.id, userName: "vf@example.com", emails: [{ value: "vf@example.com" }] });
    expect(list.Resources[0]?.name).toBeUndefined();
    const single = await bodyOf<Record<string, unknown>>(
      await scim(tenant, `/Users/${user.id}?attributes=${encodeURIComponent('emails[type eq "work" and value co ","].value')}`),
    );
    expect(single.emails, JSON.stringify(single)).toEqual([{ value: "vf@example.com" }]);
    expect(single.userName).toBeUndefined();
  });
});
