/** A tenant's provisioning health in GET /admin/tenants/{id} (issue 11 item 5, without its events). */
import { describe, expect, it } from "vitest";
import { admin, createTenant, scim, type TestTenant } from "./support/http";
import { USER } from "./support/urns";

interface Health {
  status: string;
  since: string | null;
  recentRequests: number;
  recentFailures: number;
  lastError: { status: number; scimType: string | null; detail: string | null } | null;
}

async function health(tenant: TestTenant): Promise<Health> {
  const res = await admin(`/tenants/${tenant.id}`);
  expect(res.status).toBe(200);
  return (await res.json<{ health: Health }>()).health;
}

async function createUser(tenant: TestTenant, userName: string): Promise<number> {
  const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName } });
  await res.body?.cancel();
  return res.status;
}

describe("tenant health", () => {
  it("is idle before any IdP call", async () => {
    const tenant = await createTenant();
    expect(await health(tenant)).toEqual({ status: "idle", since: null, recentRequests: 0, recentFailures: 0, lastError: null });
  });

  it("turns failing when most recent writes fail, names the error, and healthy again after successes", async () => {
    const tenant = await createTenant();
    expect(await createUser(tenant, "first@example.com")).toBe(201);
    await expect.poll(async () => (await health(tenant)).status).toBe("healthy");

    for (let i = 0; i < 4; i += 1) expect(await createUser(tenant, "first@example.com")).toBe(409);
    await expect.poll(async () => (await health(tenant)).recentFailures).toBe(4);
    const failing = await health(tenant);
    expect(failing).toMatchObject({ status: "failing", recentRequests: 5, recentFailures: 4, lastError: { status: 409, scimType: "uniqueness" } });
    expect(failing.since).toEqual(expect.any(String));

    for (let i = 0; i < 4; i += 1) expect(await createUser(tenant, `ok${i}@example.com`)).toBe(201);
    const recovered = await health(tenant);
    expect(recovered).toMatchObject({ status: "healthy", recentRequests: 9, recentFailures: 4, lastError: { status: 409 } });
  });
});
