/**
 * Users carry roles the way IdPs send them (issue 12, IDP-BEHAVIOUR.md): Okta's `userType`
 * custom attribute and `roles` (entitlement assignment), Entra's AppRoleAssignments (one
 * primary role through `roles[primary eq "True"].value`) and AppRoleAssignmentsComplex (every
 * role, values possibly JSON strings). Each test shows what is stored and the effective roles
 * the operator reads (`GET /admin/tenants/{id}/users/{userId}`), strict validation refusing an
 * unknown role with nothing written, and `user.roles_changed` events, group role edits included.
 *
 * The deployment's roles (admin, member, viewer, guest) are created once for this file.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import { entra, okta } from "./support/idp";
import { GROUP, PATCH_OP, USER } from "./support/urns";

interface Roles {
  effective: string[];
  highest: string | null;
  sources: { roleId: string; from: string; groupId?: string }[];
  unknown: string[];
}

interface EventJson {
  seq: number;
  type: string;
  resourceId: string;
  data: { before?: string[]; after?: string[]; cause?: Record<string, unknown> } | null;
}

beforeAll(async () => {
  const roles = { admin: ["Admin", 40], member: ["Member", 30], viewer: ["Viewer", 20], guest: ["Guest", 10] } as const;
  for (const [id, [displayName, rank]] of Object.entries(roles)) {
    const res = await admin(`/roles/${id}`, { method: "PUT", json: { displayName, rank } });
    expect([200, 201]).toContain(res.status);
  }
});

async function rolesOf(tenant: TestTenant, userId: string): Promise<Roles> {
  const res = await admin(`/tenants/${tenant.id}/users/${userId}`);
  const body = await bodyOf<{ roles: Roles }>(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.roles;
}

type Send = (tenant: TestTenant, path: string, init: { method?: string; json?: unknown }) => Promise<Response>;

async function createUser(tenant: TestTenant, extra: Record<string, unknown>, send: Send = scim): Promise<{ id: string; roles?: unknown; userType?: unknown }> {
  const res = await send(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `u-${crypto.randomUUID()}@example.com`, ...extra } });
  const body = await bodyOf<{ id: string }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function roleEvents(tenant: TestTenant): Promise<EventJson[]> {
  const body = await bodyOf<{ events: EventJson[] }>(await admin(`/tenants/${tenant.id}/events?limit=1000`));
  return body.events.filter((e) => e.type === "user.roles_changed");
}

async function putTenantRole(tenant: TestTenant, id: string, displayName: string, rank: number) {
  const res = await admin(`/tenants/${tenant.id}/roles/${id}`, { method: "PUT", json: { displayName, rank } });
  expect([200, 201]).toContain(res.status);
}

describe("Okta", () => {
  it("userType holding a role id (monday.com's custom attribute) is the user's role", async () => {
    const tenant = await createTenant({ provider: "okta" });
    const user = await createUser(tenant, { userType: "viewer", active: true }, okta);
    expect(user.userType).toBe("viewer");
    expect(await rolesOf(tenant, user.id)).toEqual({
      effective: ["viewer"],
      highest: "viewer",
      sources: [{ roleId: "viewer", from: "userType" }],
      unknown: [],
    });
    // Okta changes the attribute with a full PUT.
    const put = await okta(tenant, `/Users/${user.id}`, { method: "PUT", json: { schemas: [USER], userName: "x@example.com", userType: "admin" } });
    expect(put.status).toBe(200);
    expect((await rolesOf(tenant, user.id)).effective).toEqual(["admin"]);
  });

  it("roles (entitlement assignment) with a tenant's custom role: highest by rank", async () => {
    const tenant = await createTenant({ provider: "okta" });
    await putTenantRole(tenant, "board-owner", "Board owner", 35);
    const user = await createUser(tenant, { roles: [{ value: "viewer", display: "Viewer" }, { value: "board-owner" }] });
    expect(user.roles).toEqual([{ value: "viewer", display: "Viewer" }, { value: "board-owner" }]);
    const roles = await rolesOf(tenant, user.id);
    expect(roles.effective).toEqual(["board-owner", "viewer"]);
    expect(roles.highest).toBe("board-owner");
    expect(roles.sources).toEqual([
      { roleId: "viewer", from: "user" },
      { roleId: "board-owner", from: "user" },
    ]);
  });
});

describe("Entra", () => {
  it("AppRoleAssignments: the one primary role through roles[primary eq \"True\"].value, matched by displayName", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await createUser(tenant, { roles: [] });
    const patch = await entra(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "Add", path: 'roles[primary eq "True"].value', value: "MEMBER" }] },
    });
    const body = await bodyOf<{ roles: unknown }>(patch);
    expect(patch.status, JSON.stringify(body)).toBe(200);
    expect(body.roles).toEqual([{ primary: true, value: "MEMBER" }]);
    expect(await rolesOf(tenant, user.id)).toMatchObject({ effective: ["member"], highest: "member", unknown: [] });
  });

  it("AppRoleAssignmentsComplex: every role, values sent as JSON strings unwrapped", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const user = await createUser(tenant, {
      roles: [{ primary: false, type: "WindowsAzureActiveDirectoryRole", value: "Admin" }],
    });
    const appRole = JSON.stringify({ id: "7e0a0e3c-0000-4000-8000-000000000001", value: "Viewer", displayName: "Viewer (read only)" });
    const patch = await entra(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "roles", value: [{ primary: "False", type: "WindowsAzureActiveDirectoryRole", value: appRole }] }] },
    });
    const body = await bodyOf<{ roles: unknown }>(patch);
    expect(patch.status, JSON.stringify(body)).toBe(200);
    expect(body.roles).toEqual([
      { primary: false, type: "WindowsAzureActiveDirectoryRole", value: "Admin" },
      { primary: false, type: "WindowsAzureActiveDirectoryRole", value: "Viewer", display: "Viewer (read only)" },
    ]);
    expect(await rolesOf(tenant, user.id)).toMatchObject({ effective: ["admin", "viewer"], highest: "admin" });
    // A bare JSON-string element (roles: ["{\"value\":…}"]) is accepted too.
    const put = await entra(tenant, `/Users/${user.id}`, {
      method: "PUT",
      json: { schemas: [USER], userName: "entra@example.com", roles: [JSON.stringify({ value: "Guest" })] },
    });
    expect(put.status).toBe(200);
    expect((await rolesOf(tenant, user.id)).effective).toEqual(["guest"]);
  });
});

describe("validation", () => {
  it("lenient (the default) stores unknown values and reports them as unknown", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { roles: [{ value: "superuser" }, { value: "guest" }], userType: "Employee" });
    expect(user.roles).toEqual([{ value: "superuser" }, { value: "guest" }]);
    expect(await rolesOf(tenant, user.id)).toMatchObject({ effective: ["guest"], unknown: ["superuser", "Employee"] });
  });

  it("strict refuses an unknown role with 400 invalidValue listing the allowed ids, and writes nothing", async () => {
    const tenant = await createTenant({ roleValidation: "strict" });
    await putTenantRole(tenant, "board-owner", "Board owner", 35);
    const userName = "strict@example.com";
    const refused = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName, roles: [{ value: "superuser" }] } });
    const error = await expectScimError(refused, 400, "invalidValue");
    expect(error.detail).toContain('"superuser"');
    for (const id of ["admin", "board-owner", "guest", "member", "viewer"]) expect(error.detail).toContain(`"${id}"`);
    const found = await bodyOf<{ totalResults: number }>(await scim(tenant, `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`));
    expect(found.totalResults).toBe(0);
    const events = await bodyOf<{ events: unknown[] }>(await admin(`/tenants/${tenant.id}/events`));
    expect(events.events).toEqual([]);

    // Known values (by id or displayName) pass; a PATCH adding an unknown one changes nothing.
    const user = await createUser(tenant, { roles: [{ value: "Board Owner" }], userType: "viewer" });
    const patch = await scim(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "add", path: "roles", value: [{ value: "root" }] }] },
    });
    await expectScimError(patch, 400, "invalidValue");
    const stored = await bodyOf<{ roles: unknown; meta: { version: string } }>(await scim(tenant, `/Users/${user.id}`));
    expect(stored.roles).toEqual([{ value: "Board Owner" }]);
    expect(await rolesOf(tenant, user.id)).toMatchObject({ effective: ["board-owner", "viewer"], unknown: [] });
  });

  it("strict checks only values a write adds: a user holding a value stored while lenient can still be deactivated", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { roles: [{ value: "legacy" }], entitlements: [{ value: "old-seat" }] });
    expect((await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { roleValidation: "strict" } })).status).toBe(200);
    // Okta's deactivation: a path-less PATCH that keeps every other attribute.
    const off = await okta(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] },
    });
    expect(off.status, await off.clone().text()).toBe(200);
    const more = await scim(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "add", path: "roles", value: [{ value: "another" }] }] },
    });
    await expectScimError(more, 400, "invalidValue");
  });

  it("a webhook endpoint can subscribe to user.roles_changed", async () => {
    const res = await admin("/webhooks", { method: "POST", json: { url: "http://127.0.0.1:9/hook", events: ["user.roles_changed"] } });
    const body = await bodyOf<{ id: string; events: string[] }>(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.events).toEqual(["user.roles_changed"]);
    expect((await admin(`/webhooks/${body.id}`, { method: "DELETE" })).status).toBe(204);
  });

  it("strict refuses an unknown entitlement; a known one is stored", async () => {
    const tenant = await createTenant({ roleValidation: "strict" });
    const put = await admin(`/tenants/${tenant.id}/entitlements/seat`, { method: "PUT", json: { displayName: "Seat", type: "License" } });
    expect(put.status).toBe(201);
    const refused = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "e@example.com", entitlements: [{ value: "gold" }] } });
    const error = await expectScimError(refused, 400, "invalidValue");
    expect(error.detail).toContain('allowed entitlement ids: "seat"');
    const user = await createUser(tenant, { entitlements: [{ value: "seat", type: "License" }] });
    expect(user).toMatchObject({ entitlements: [{ value: "seat", type: "License" }] });
  });
});

describe("effective roles", () => {
  it("include every group's role (the tenant's defaultRole); a deactivated user has none", async () => {
    const tenant = await createTenant({ defaultRole: "viewer" });
    const user = await createUser(tenant, { userType: "guest" });
    const group = await bodyOf<{ id: string }>(
      await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Sales", members: [{ value: user.id }] } }),
    );
    expect(await rolesOf(tenant, user.id)).toEqual({
      effective: ["guest", "viewer"],
      highest: "viewer",
      sources: [
        { roleId: "guest", from: "userType" },
        { roleId: "viewer", from: "group", groupId: group.id },
      ],
      unknown: [],
    });
    const listed = await bodyOf<{ users: { id: string; roles: Roles }[] }>(await admin(`/tenants/${tenant.id}/users`));
    expect(listed.users.find((u) => u.id === user.id)?.roles.effective).toEqual(["guest", "viewer"]);

    const before = (await roleEvents(tenant)).length;
    const off = await scim(tenant, `/Users/${user.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] },
    });
    expect(off.status).toBe(200);
    expect(await rolesOf(tenant, user.id)).toMatchObject({ effective: [], highest: null, sources: [] });
    const events = await roleEvents(tenant);
    expect(events.slice(before)).toEqual([
      expect.objectContaining({ resourceId: user.id, data: { before: ["guest", "viewer"], after: [], cause: { kind: "user" } } }),
    ]);
  });

  it("user.roles_changed on a user write only when the effective roles change", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, { roles: [{ value: "viewer" }] });
    expect(await roleEvents(tenant)).toEqual([expect.objectContaining({ resourceId: user.id, data: { before: [], after: ["viewer"], cause: { kind: "user" } } })]);
    // The same role under its displayName, and a new display: same effective roles, no event.
    const same = await scim(tenant, `/Users/${user.id}`, { method: "PUT", json: { schemas: [USER], userName: "same@example.com", roles: [{ value: "Viewer", display: "V" }] } });
    expect(same.status).toBe(200);
    expect(await roleEvents(tenant)).toHaveLength(1);
    const more = await scim(tenant, `/Users/${user.id}`, { method: "PUT", json: { schemas: [USER], userName: "same@example.com", roles: [{ value: "viewer" }, { value: "admin" }] } });
    expect(more.status).toBe(200);
    const events = await roleEvents(tenant);
    expect(events.at(-1)?.data).toEqual({ before: ["viewer"], after: ["admin", "viewer"], cause: { kind: "user" } });
  });

  it("a group role edit by the operator changes the members' effective roles and emits their events", async () => {
    const tenant = await createTenant({ defaultRole: "viewer" });
    const plain = await createUser(tenant, {});
    const alreadyAdmin = await createUser(tenant, { roles: [{ value: "admin" }] });
    const inactive = await createUser(tenant, { active: false });
    const outsider = await createUser(tenant, {});
    const group = await bodyOf<{ id: string }>(
      await scim(tenant, "/Groups", {
        method: "POST",
        json: { schemas: [GROUP], displayName: "Engineering", members: [plain, alreadyAdmin, inactive].map((u) => ({ value: u.id })) },
      }),
    );
    expect((await rolesOf(tenant, plain.id)).effective).toEqual(["viewer"]);
    const seen = (await roleEvents(tenant)).length;

    const edit = await admin(`/tenants/${tenant.id}/groups/${group.id}`, { method: "PATCH", json: { role: "member" } });
    expect(await bodyOf(edit)).toMatchObject({ id: group.id, role: "member" });
    expect(await rolesOf(tenant, plain.id)).toMatchObject({ effective: ["member"], highest: "member", sources: [{ roleId: "member", from: "group", groupId: group.id }] });
    expect((await rolesOf(tenant, alreadyAdmin.id)).effective).toEqual(["admin", "member"]);
    expect((await rolesOf(tenant, inactive.id)).effective).toEqual([]);
    const cause = { kind: "group.role", groupId: group.id };
    const events = (await roleEvents(tenant)).slice(seen);
    expect(events.map((e) => [e.resourceId, e.data]).sort()).toEqual(
      [
        [plain.id, { before: ["viewer"], after: ["member"], cause }],
        [alreadyAdmin.id, { before: ["admin", "viewer"], after: ["admin", "member"], cause }],
      ].sort(),
    );
    expect(events.some((e) => e.resourceId === outsider.id || e.resourceId === inactive.id)).toBe(false);

    // The same role under its displayName resolves to the same id: no event.
    await admin(`/tenants/${tenant.id}/groups/${group.id}`, { method: "PATCH", json: { role: "Member" } });
    expect((await roleEvents(tenant)).length).toBe(seen + 2);
    // Removing the role: the plain member has none left.
    await admin(`/tenants/${tenant.id}/groups/${group.id}`, { method: "PATCH", json: { role: null } });
    expect((await rolesOf(tenant, plain.id)).effective).toEqual([]);
    expect((await roleEvents(tenant)).at(-1)?.data?.after).toBeDefined();
  });

  it("membership changes (create with members, PATCH add/remove, PUT, delete) emit user.roles_changed for the users whose roles change", async () => {
    const tenant = await createTenant({ defaultRole: "member" });
    const a = await createUser(tenant, {});
    const b = await createUser(tenant, { userType: "member" });
    const c = await createUser(tenant, {});
    const cause = (groupId: string) => ({ kind: "group.members", groupId });
    const since = async (n: number) => (await roleEvents(tenant)).slice(n).map((e) => [e.resourceId, e.data]);
    let seen = (await roleEvents(tenant)).length;

    // b already has member through userType: only a changes.
    const created = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Team", members: [{ value: a.id }, { value: b.id }] } });
    const group = await bodyOf<{ id: string }>(created);
    expect(created.status).toBe(201);
    expect(await since(seen)).toEqual([[a.id, { before: [], after: ["member"], cause: cause(group.id) }]]);
    seen += 1;

    // Entra's add of c and removal of a, one request; a re-sent add of b changes nothing.
    const patch = await scim(tenant, `/Groups/${group.id}`, {
      method: "PATCH",
      json: {
        schemas: [PATCH_OP],
        Operations: [
          { op: "Add", path: "members", value: [{ value: c.id }, { value: b.id }] },
          { op: "Remove", path: "members", value: [{ value: a.id }] },
        ],
      },
    });
    expect(patch.status).toBe(204);
    expect((await since(seen)).sort()).toEqual(
      [
        [a.id, { before: ["member"], after: [], cause: cause(group.id) }],
        [c.id, { before: [], after: ["member"], cause: cause(group.id) }],
      ].sort(),
    );
    expect((await rolesOf(tenant, a.id)).effective).toEqual([]);
    expect((await rolesOf(tenant, c.id)).effective).toEqual(["member"]);
    seen += 2;

    // A PUT replacing all members with [a]: c loses, a gains, b keeps its userType role.
    const put = await scim(tenant, `/Groups/${group.id}`, { method: "PUT", json: { schemas: [GROUP], displayName: "Team", members: [{ value: a.id }] } });
    expect(put.status).toBe(200);
    expect((await since(seen)).sort()).toEqual(
      [
        [a.id, { before: [], after: ["member"], cause: cause(group.id) }],
        [c.id, { before: ["member"], after: [], cause: cause(group.id) }],
      ].sort(),
    );
    seen += 2;

    expect((await scim(tenant, `/Groups/${group.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await since(seen)).toEqual([[a.id, { before: ["member"], after: [], cause: cause(group.id) }]]);
  });

  it("follow nested groups: a user in a group inside a group with a role has that role (issue 13)", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, {});
    const post = async (displayName: string, members: { value: string }[]) =>
      bodyOf<{ id: string }>(await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName, members } }));
    const inner = await post("Inner", [{ value: user.id }]);
    const outer = await post("Outer", [{ value: inner.id }]);
    expect((await rolesOf(tenant, user.id)).effective).toEqual([]);
    await admin(`/tenants/${tenant.id}/groups/${outer.id}`, { method: "PATCH", json: { role: "member" } });
    expect(await rolesOf(tenant, user.id)).toMatchObject({ effective: ["member"], sources: [{ roleId: "member", from: "group", groupId: outer.id }] });
    // Leaving the inner group leaves the outer one's role too, and that change names the user: an event.
    const seen = (await roleEvents(tenant)).length;
    const removed = await scim(tenant, `/Groups/${inner.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${user.id}"]` }] },
    });
    expect(removed.status).toBe(204);
    expect((await rolesOf(tenant, user.id)).effective).toEqual([]);
    expect((await roleEvents(tenant)).slice(seen).map((e) => [e.resourceId, e.data?.after])).toEqual([[user.id, []]]);
  });

  it("a group without a role changes nobody's roles", async () => {
    const tenant = await createTenant();
    const user = await createUser(tenant, {});
    const created = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "No role", members: [{ value: user.id }] } });
    expect(created.status).toBe(201);
    expect(await roleEvents(tenant)).toEqual([]);
    expect((await rolesOf(tenant, user.id)).effective).toEqual([]);
  });

  it("answers 404 for another tenant's user", async () => {
    const owner = await createTenant();
    const other = await createTenant();
    const user = await createUser(owner, { userType: "admin" });
    expect((await admin(`/tenants/${other.id}/users/${user.id}`)).status).toBe(404);
    expect((await rolesOf(owner, user.id)).effective).toEqual(["admin"]);
  });
});
