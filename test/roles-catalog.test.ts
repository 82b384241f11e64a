/**
 * The role and entitlement catalog (issue 12): the operator API, and SCIM discovery as Okta's
 * entitlement management reads it (IDP-BEHAVIOUR.md, Okta, "Entitlements"): /ResourceTypes lists
 * Role and Entitlement when the tenant's catalog has any, and `GET {endpoint}?count=1&startIndex=1`
 * answers 200 with a non-empty page, `itemsPerPage` 1 and numeric `startIndex`/`totalResults`.
 * Deployment roles are shared by every tenant of this file, so only one test creates one and
 * removes it before it ends.
 */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import { okta } from "./support/idp";

const ROLE_URN = "urn:okta:scim:schemas:core:1.0:Role";
const ENTITLEMENT_URN = "urn:okta:scim:schemas:core:1.0:Entitlement";

interface ListJson {
  totalResults: unknown;
  startIndex: unknown;
  itemsPerPage: unknown;
  Resources: Record<string, unknown>[];
}

async function putTenantRole(tenant: TestTenant, id: string, body: Record<string, unknown>) {
  const res = await admin(`/tenants/${tenant.id}/roles/${encodeURIComponent(id)}`, { method: "PUT", json: body });
  expect([200, 201], await res.clone().text()).toContain(res.status);
  return bodyOf(res);
}

async function putEntitlement(tenant: TestTenant, id: string, body: Record<string, unknown>) {
  const res = await admin(`/tenants/${tenant.id}/entitlements/${encodeURIComponent(id)}`, { method: "PUT", json: body });
  expect([200, 201], await res.clone().text()).toContain(res.status);
  return bodyOf(res);
}

async function resourceTypeIds(tenant: TestTenant): Promise<string[]> {
  const res = await okta(tenant, "/ResourceTypes");
  const body = await bodyOf<ListJson>(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.Resources.map((r) => r.id as string);
}

describe("role catalog: operator API", () => {
  it("creates (201), replaces (200), reads, lists and deletes a tenant's role", async () => {
    const tenant = await createTenant();
    const created = await admin(`/tenants/${tenant.id}/roles/editor`, { method: "PUT", json: { displayName: "Editor", rank: 20 } });
    expect(created.status).toBe(201);
    const replaced = await admin(`/tenants/${tenant.id}/roles/editor`, {
      method: "PUT",
      json: { displayName: "Editor", description: "Edits boards", rank: 25 },
    });
    expect(replaced.status).toBe(200);
    expect(await bodyOf(replaced)).toMatchObject({ id: "editor", displayName: "Editor", description: "Edits boards", rank: 25, scope: "tenant" });
    const read = await bodyOf(await admin(`/tenants/${tenant.id}/roles/editor`));
    expect(read).toMatchObject({ id: "editor", rank: 25 });
    const listed = await bodyOf<{ roles: { id: string }[] }>(await admin(`/tenants/${tenant.id}/roles`));
    expect(listed.roles.map((r) => r.id)).toEqual(["editor"]);
    expect((await admin(`/tenants/${tenant.id}/roles/editor`, { method: "DELETE" })).status).toBe(204);
    expect((await admin(`/tenants/${tenant.id}/roles/editor`, { method: "DELETE" })).status).toBe(404);
  });

  it("refuses a role without displayName, with an unknown key or a control character, and writes nothing", async () => {
    const tenant = await createTenant();
    for (const json of [{}, { displayName: "A", colour: "red" }, { displayName: "A\u0007" }, { displayName: "A", rank: 1.5 }]) {
      const res = await admin(`/tenants/${tenant.id}/roles/r1`, { method: "PUT", json });
      await expectScimError(res, 400, "invalidValue");
    }
    expect((await admin(`/tenants/${tenant.id}/roles/r1`)).status).toBe(404);
  });

  it("answers 404 for another tenant's role and for an unknown tenant", async () => {
    const owner = await createTenant();
    const other = await createTenant();
    await putTenantRole(owner, "secret-role", { displayName: "Secret" });
    expect((await admin(`/tenants/${other.id}/roles/secret-role`)).status).toBe(404);
    expect((await admin(`/tenants/${other.id}/roles/secret-role`, { method: "DELETE" })).status).toBe(404);
    expect((await admin(`/tenants/${crypto.randomUUID()}/roles/x`, { method: "PUT", json: { displayName: "X" } })).status).toBe(404);
    expect((await admin(`/tenants/${owner.id}/roles/secret-role`)).status).toBe(200);
  });

  it("manages entitlements with a type", async () => {
    const tenant = await createTenant();
    const ent = await putEntitlement(tenant, "pro-licence", { displayName: "Pro licence", type: "License" });
    expect(ent).toMatchObject({ id: "pro-licence", type: "License" });
    await expectScimError(await admin(`/tenants/${tenant.id}/entitlements/x`, { method: "PUT", json: { displayName: "X" } }), 400, "invalidValue");
    const listed = await bodyOf<{ entitlements: { id: string }[] }>(await admin(`/tenants/${tenant.id}/entitlements`));
    expect(listed.entitlements.map((e) => e.id)).toEqual(["pro-licence"]);
    expect((await admin(`/tenants/${tenant.id}/entitlements/pro-licence`, { method: "DELETE" })).status).toBe(204);
  });

  it("keeps roleValidation as a tenant setting (default lenient)", async () => {
    const tenant = await createTenant();
    expect(await bodyOf(await admin(`/tenants/${tenant.id}`))).toMatchObject({ roleValidation: "lenient" });
    const res = await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { roleValidation: "strict" } });
    expect(await bodyOf(res)).toMatchObject({ roleValidation: "strict" });
    await expectScimError(await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { roleValidation: "loose" } }), 400, "invalidValue");
  });
});

describe("role catalog: SCIM discovery as Okta reads it", () => {
  it("lists Role and Entitlement in /ResourceTypes only once the tenant's catalog has some", async () => {
    const tenant = await createTenant({ provider: "okta" });
    expect(await resourceTypeIds(tenant)).toEqual(["User", "Group"]);
    await putTenantRole(tenant, "admin", { displayName: "Admin" });
    expect(await resourceTypeIds(tenant)).toEqual(["User", "Group", "Role"]);
    await putEntitlement(tenant, "seat", { displayName: "Seat", type: "License" });
    const res = await okta(tenant, "/ResourceTypes");
    const body = await bodyOf<ListJson>(res);
    expect(body.Resources.map((r) => [r.id, r.endpoint, r.schema])).toEqual([
      ["User", "/Users", "urn:ietf:params:scim:schemas:core:2.0:User"],
      ["Group", "/Groups", "urn:ietf:params:scim:schemas:core:2.0:Group"],
      ["Role", "/Roles", ROLE_URN],
      ["Entitlement", "/Entitlements", ENTITLEMENT_URN],
    ]);
    const one = await bodyOf(await okta(tenant, "/ResourceTypes/Role"));
    expect(one).toMatchObject({ id: "Role", endpoint: "/Roles", schema: ROLE_URN });
  });

  it("describes both schemas at /Schemas", async () => {
    const tenant = await createTenant();
    const body = await bodyOf<ListJson>(await scim(tenant, "/Schemas"));
    const ids = body.Resources.map((r) => r.id);
    expect(ids).toContain(ROLE_URN);
    expect(ids).toContain(ENTITLEMENT_URN);
    const role = await bodyOf<{ attributes: { name: string }[] }>(await scim(tenant, `/Schemas/${ROLE_URN}`));
    expect(role.attributes.map((a) => a.name)).toEqual(["displayName", "description"]);
  });

  it("answers Okta's check: count=1&startIndex=1 is 200 with one resource and numeric paging fields", async () => {
    const tenant = await createTenant({ provider: "okta" });
    await putTenantRole(tenant, "admin", { displayName: "Admin", description: "Everything" });
    await putTenantRole(tenant, "viewer", { displayName: "Viewer" });
    await putEntitlement(tenant, "seat", { displayName: "Seat", type: "License", description: "One seat" });
    for (const endpoint of ["/Roles", "/Entitlements"]) {
      const res = await okta(tenant, `${endpoint}?count=1&startIndex=1`);
      const body = await bodyOf<ListJson>(res);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.Resources.length).toBe(1);
      expect(body.itemsPerPage).toBe(1);
      expect(typeof body.startIndex).toBe("number");
      expect(typeof body.totalResults).toBe("number");
    }
    const roles = await bodyOf<ListJson>(await okta(tenant, "/Roles?count=1&startIndex=2"));
    expect(roles).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1 });
    expect(roles.Resources[0]).toEqual({
      schemas: [ROLE_URN],
      id: "viewer",
      displayName: "Viewer",
      meta: { resourceType: "Role", location: `${tenant.baseUrl}/Roles/viewer` },
    });
    const ents = await bodyOf<ListJson>(await okta(tenant, "/Entitlements"));
    expect(ents.Resources[0]).toMatchObject({ schemas: [ENTITLEMENT_URN], id: "seat", displayName: "Seat", type: "License", description: "One seat" });
  });

  it("reads one role by id, filters by displayName, 404s an unknown id and 405s writes", async () => {
    const tenant = await createTenant();
    await putTenantRole(tenant, "admin", { displayName: "Administrator", description: "Everything" });
    await putTenantRole(tenant, "guest", { displayName: "Guest" });
    const one = await scim(tenant, "/Roles/admin");
    expect(await bodyOf(one)).toMatchObject({ id: "admin", displayName: "Administrator", description: "Everything" });
    const filtered = await bodyOf<ListJson>(await scim(tenant, `/Roles?filter=${encodeURIComponent('displayName eq "guest"')}`));
    expect(filtered.Resources.map((r) => r.id)).toEqual(["guest"]);
    await expectScimError(await scim(tenant, `/Roles?filter=${encodeURIComponent('rank gt 1')}`), 400, "invalidFilter");
    await expectScimError(await scim(tenant, "/Roles/nope"), 404);
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const path = method === "POST" ? "/Roles" : "/Roles/admin";
      const res = await scim(tenant, path, { method, json: { displayName: "x" } });
      expect(res.status, method).toBe(405);
    }
    expect((await scim(tenant, "/Roles/admin")).status).toBe(200);
  });

  it("never shows another tenant's roles; the deployment's roles show in every tenant, shadowed by a tenant's own", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await putTenantRole(a, "a-only", { displayName: "A only" });
    expect((await scim(b, "/Roles/a-only")).status).toBe(404);
    const put = await admin("/roles/member", { method: "PUT", json: { displayName: "Member", rank: 10 } });
    expect(put.status).toBe(201);
    try {
      await putTenantRole(a, "member", { displayName: "Teammate", rank: 11 });
      const inA = await bodyOf<ListJson>(await scim(a, "/Roles"));
      expect(inA.Resources.map((r) => [r.id, r.displayName])).toEqual([
        ["a-only", "A only"],
        ["member", "Teammate"],
      ]);
      const inB = await bodyOf<ListJson>(await scim(b, "/Roles"));
      expect(inB.Resources.map((r) => [r.id, r.displayName])).toEqual([["member", "Member"]]);
      const deployment = await bodyOf<{ roles: { id: string; scope: string }[] }>(await admin("/roles"));
      expect(deployment.roles).toEqual([expect.objectContaining({ id: "member", scope: "deployment" })]);
    } finally {
      expect((await admin("/roles/member", { method: "DELETE" })).status).toBe(204);
    }
  });
});
