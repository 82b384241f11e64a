/**
 * What the tenant console's pages show, over HTTP with a signed-in session: the overview's
 * connection status in words, the log's failures with their diagnosis, the user search and its
 * filters (each user's own roles and groups, never another tenant's), and the setup result
 * page's way into the console.
 */
import { describe, expect, it } from "vitest";
import { admin, bodyOf, call, createTenant, ORIGIN, scim, type TestTenant } from "./support/http";
import { GROUP, USER } from "./support/urns";

const COOKIE = "__Host-scim_console";

async function signIn(tenant: TestTenant): Promise<string> {
  const { url } = await bodyOf<{ url: string }>(await admin(`/tenants/${tenant.id}/console-links`, { method: "POST" }));
  return signInWith(url);
}

async function signInWith(url: string): Promise<string> {
  const res = await call(url, { method: "POST", headers: { Origin: ORIGIN }, redirect: "manual" });
  expect(res.status, await res.clone().text()).toBe(303);
  const value = new RegExp(`^${COOKIE}=([^;]+)`).exec(res.headers.get("Set-Cookie") ?? "")?.[1];
  return `${COOKIE}=${value ?? ""}`;
}

async function html(path: string, cookie: string): Promise<string> {
  const res = await call(path, { headers: { Cookie: cookie } });
  expect(res.status, path).toBe(200);
  return res.text();
}

async function createUser(tenant: TestTenant, userName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName, ...extra } });
  expect(res.status).toBe(201);
  return (await bodyOf<{ id: string }>(res)).id;
}

describe("console overview", () => {
  it("says never called, then healthy, then failing since the first of a run of failures", async () => {
    const tenant = await createTenant({ name: "Status Org" });
    const cookie = await signIn(tenant);
    expect(await html(`/console/${tenant.id}`, cookie)).toContain("Never called");
    await createUser(tenant, "first@status.example");
    await expect.poll(async () => html(`/console/${tenant.id}`, cookie)).toContain("Healthy");
    for (let i = 0; i < 3; i++) {
      const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: `g${i}`, members: [{ value: crypto.randomUUID() }] } });
      expect(res.status).toBe(400);
    }
    await expect.poll(async () => html(`/console/${tenant.id}`, cookie)).toContain("Failing since");
    const page = await html(`/console/${tenant.id}`, cookie);
    expect(page).toContain("pushed a group naming a member that was never provisioned");
  });

  it("explains failed authentications: a rotated token is the previous token", async () => {
    const tenant = await createTenant();
    const cookie = await signIn(tenant);
    const rotated = await admin(`/tenants/${tenant.id}/token`, { method: "POST" });
    expect(rotated.status).toBe(200);
    expect((await scim(tenant, "/Users")).status).toBe(401);
    await expect.poll(async () => html(`/console/${tenant.id}`, cookie)).toContain("still uses the previous token");
  });
});

describe("console log", () => {
  it("lists failures only when asked, each with its diagnosis in the IdP's terms", async () => {
    const tenant = await createTenant({ provider: "entra" });
    const cookie = await signIn(tenant);
    await createUser(tenant, "ok@log.example");
    const dup = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "OK@log.example" } });
    expect(dup.status).toBe(409);
    await expect.poll(async () => html(`/console/${tenant.id}/log?failures=1`, cookie)).toContain('data-diagnosis="user-name-taken"');
    const failures = await html(`/console/${tenant.id}/log?failures=1`, cookie);
    expect(failures).toContain("Provision on demand");
    expect(failures).not.toContain('data-status="201"');
    const all = await html(`/console/${tenant.id}/log`, cookie);
    expect(all).toContain('data-status="201"');
    expect(all).toContain('data-status="409"');
  });
});

describe("console users", () => {
  it("search by name or email, filter by status and by 'not in any group', each with its own roles and groups", async () => {
    // Another tenant's user first, with a role of its own: it must never show up here.
    const other = await createTenant();
    await createUser(other, "other@elsewhere.example", { userType: "Contractor", roles: [{ value: "other-role" }] });
    const tenant = await createTenant();
    const ana = await createUser(tenant, "ana@users.example", { displayName: "Ana Ruiz", userType: "Employee", roles: [{ value: "billing" }], emails: [{ value: "ana.ruiz@corp.example", type: "work", primary: true }] });
    await createUser(tenant, "bo@users.example", { displayName: "Bo Chen", active: false });
    // A tenant role for `billing`, and one for the group: the console shows effective roles.
    expect((await admin(`/tenants/${tenant.id}/roles/billing`, { method: "PUT", json: { displayName: "Billing" } })).status).toBe(201);
    expect((await admin(`/tenants/${tenant.id}/roles/finance-reader`, { method: "PUT", json: { displayName: "Finance reader" } })).status).toBe(201);
    const group = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Finance", members: [{ value: ana }] } });
    const groupId = (await bodyOf<{ id: string }>(group)).id;
    expect((await admin(`/tenants/${tenant.id}/groups/${groupId}`, { method: "PATCH", json: { role: "finance-reader" } })).status).toBe(200);
    expect(group.status).toBe(201);
    const cookie = await signIn(tenant);
    const base = `/console/${tenant.id}/users`;

    const byEmail = await html(`${base}?q=${encodeURIComponent("RUIZ@corp")}`, cookie);
    expect(byEmail).toContain("ana@users.example");
    expect(byEmail).not.toContain("bo@users.example");
    expect(byEmail).toContain("Finance");
    // Effective roles (its own and its group's), then the value no catalog role matches.
    expect(byEmail).toContain("billing, finance-reader, Employee (not in the role catalog)");
    expect(byEmail).not.toContain("other-role");
    expect(byEmail).not.toContain("Contractor");

    const byName = await html(`${base}?q=chen`, cookie);
    expect(byName).toContain("bo@users.example");
    expect(byName).not.toContain("ana@users.example");

    const inactive = await html(`${base}?status=inactive`, cookie);
    expect(inactive).toContain("bo@users.example");
    expect(inactive).not.toContain("ana@users.example");

    const unassigned = await html(`${base}?unassigned=1`, cookie);
    expect(unassigned).toContain("bo@users.example");
    expect(unassigned).not.toContain("ana@users.example");

    const everyone = await html(base, cookie);
    expect(everyone).not.toContain("other@elsewhere.example");
  });
});

describe("setup page and console", () => {
  it("says what domain restrictions do, shows the chosen role and domains, and offers the console", async () => {
    const tenant = await createTenant({ setupLink: true });
    const form = await (await call(tenant.setupUrl ?? "")).text();
    expect(form).not.toContain("Only accept users");
    expect(form).toContain("They do not filter users");
    const result = await call(tenant.setupUrl ?? "", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ provider: "okta", userSync: "on", groupSync: "on", defaultRole: "viewer", domainRestrictions: "Acme.example" }).toString(),
    });
    expect(result.status).toBe(200);
    const page = await result.text();
    expect(page).toMatch(/Default role for new groups<\/dt><dd>viewer<\/dd>/);
    expect(page).toMatch(/Domains stamped on new groups<\/dt><dd>acme.example<\/dd>/);
    expect(page).toContain("SAML 2.0");
    const action = /<form method="post" action="(\/console\/sign-in\/[A-Za-z0-9_-]+)"/.exec(page)?.[1];
    expect(action).toBeDefined();
    const cookie = await signInWith(`${ORIGIN}${action ?? ""}`);
    expect(await html(`/console/${tenant.id}/settings`, cookie)).toContain("Okta");
  });
});
