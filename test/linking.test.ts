/** Linking IdP-provisioned users and groups to what the host app already had (issues: users §9, groups §6). */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim } from "./support/http";
import { GROUP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

async function registerAccount(tenantId: string, key: string, identity: Record<string, string>) {
  const res = await admin(`/tenants/${tenantId}/accounts/${key}`, { method: "PUT", json: identity });
  expect(res.status, await res.clone().text()).toBe(200);
}

describe("existing accounts", () => {
  it("links a SCIM create to the app account with the same userName (any case) instead of 409", async () => {
    const tenant = await createTenant();
    await registerAccount(tenant.id, "acct-1", { userName: "Invited@Example.com" });
    const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "invited@example.com" } });
    const user = await bodyOf<{ id: string }>(res);
    expect(res.status, JSON.stringify(user)).toBe(201);
    const account = await (await admin(`/tenants/${tenant.id}/accounts/acct-1`)).json();
    expect(account).toMatchObject({ accountKey: "acct-1", linkedUserId: user.id });
    const events = await (await admin(`/tenants/${tenant.id}/events`)).json<{ events: { type: string; data: { linkedAccount: string } }[] }>();
    expect(events.events[0]).toMatchObject({ type: "user.created", data: { linkedAccount: "acct-1" } });
  });

  it("links by email when the userName differs (SSO sign-ups)", async () => {
    const tenant = await createTenant();
    await registerAccount(tenant.id, "sso-7", { email: "pat@example.com" });
    const res = await scim(tenant, "/Users", {
      method: "POST",
      json: { schemas: [USER], userName: "pat.smith", emails: [{ value: "PAT@example.com", type: "work", primary: true }] },
    });
    const user = await bodyOf<{ id: string }>(res);
    expect(res.status).toBe(201);
    expect(await (await admin(`/tenants/${tenant.id}/accounts/sso-7`)).json()).toMatchObject({ linkedUserId: user.id });
  });

  it("answers 409 and creates nothing when the tenant does not link existing accounts", async () => {
    const tenant = await createTenant({ linkExistingUsers: false });
    await registerAccount(tenant.id, "acct-2", { userName: "taken@example.com" });
    await expectScimError(await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "taken@example.com" } }), 409, "uniqueness");
    const row = await (await shardOf(tenant.id)).prepare("SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?").bind(tenant.id).first<{ n: number }>();
    expect(row?.n).toBe(0);
    const other = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "free@example.com" } });
    expect(other.status).toBe(201);
  });

  it("unlinks the account when the SCIM user is deleted", async () => {
    const tenant = await createTenant();
    await registerAccount(tenant.id, "acct-3", { userName: "leaver@example.com" });
    const user = await bodyOf<{ id: string }>(await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "leaver@example.com" } }));
    await scim(tenant, `/Users/${user.id}`, { method: "DELETE" });
    expect(await (await admin(`/tenants/${tenant.id}/accounts/acct-3`)).json()).toMatchObject({ linkedUserId: null });
  });

  it("keeps another tenant's accounts out of reach", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    await registerAccount(a.id, "acct-x", { userName: "shared@example.com" });
    const res = await scim(b, "/Users", { method: "POST", json: { schemas: [USER], userName: "shared@example.com" } });
    expect(res.status).toBe(201);
    expect(await (await admin(`/tenants/${a.id}/accounts/acct-x`)).json()).toMatchObject({ linkedUserId: null });
  });

  it.each([
    ["no identity", {}],
    ["an invalid email", { email: "not-an-email" }],
    ["an unknown field", { userName: "x", admin: true }],
  ])("answers 400 invalidValue to an account with %s", async (_label, json) => {
    const tenant = await createTenant();
    await expectScimError(await admin(`/tenants/${tenant.id}/accounts/k`, { method: "PUT", json }), 400, "invalidValue");
  });
});

describe("existing groups and grants", () => {
  it("links a SCIM group to the app group with the same displayName, unless linking is off", async () => {
    const tenant = await createTenant();
    await admin(`/tenants/${tenant.id}/app-groups/eng`, { method: "PUT", json: { displayName: "Engineering" } });
    const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "engineering" } });
    const group = await bodyOf<{ id: string }>(res);
    expect(res.status, JSON.stringify(group)).toBe(201);
    expect(await (await admin(`/tenants/${tenant.id}/app-groups/eng`)).json()).toMatchObject({ linkedGroupId: group.id });

    const strict = await createTenant({ linkExistingUsers: false });
    await admin(`/tenants/${strict.id}/app-groups/eng`, { method: "PUT", json: { displayName: "Engineering" } });
    await expectScimError(await scim(strict, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Engineering" } }), 409, "uniqueness");
  });

  it("lets the operator read groups with their role and edit it", async () => {
    const tenant = await createTenant({ defaultRole: "member" });
    const group = await bodyOf<{ id: string }>(await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Ops" } }));
    const listed = await (await admin(`/tenants/${tenant.id}/groups`)).json<{ groups: { id: string; role: string }[] }>();
    expect(listed.groups).toMatchObject([{ id: group.id, role: "member", memberCount: 0 }]);
    const res = await admin(`/tenants/${tenant.id}/groups/${group.id}`, { method: "PATCH", json: { role: "admin", domains: ["ops.example.com"] } });
    expect(await res.json()).toMatchObject({ role: "admin", domains: ["ops.example.com"] });
    await expectScimError(await admin(`/tenants/${tenant.id}/groups/${crypto.randomUUID()}`, { method: "PATCH", json: { role: "x" } }), 404);
    await expectScimError(await admin(`/tenants/${tenant.id}/groups/${group.id}`, { method: "PATCH", json: {} }), 400, "invalidValue");
  });

  it("lists the tenant's users for the host app in insertion order", async () => {
    const tenant = await createTenant();
    for (const name of ["a@example.com", "b@example.com"]) {
      await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: name } });
    }
    const page = await (await admin(`/tenants/${tenant.id}/users?limit=1`)).json<{ users: { userName: string }[]; next: number }>();
    expect(page.users.map((u) => u.userName)).toEqual(["a@example.com"]);
    const rest = await (await admin(`/tenants/${tenant.id}/users?after=${page.next}`)).json<{ users: { userName: string }[] }>();
    expect(rest.users.map((u) => u.userName)).toEqual(["b@example.com"]);
  });
});
