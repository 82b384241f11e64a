/** A tenant's provisioning health in GET /admin/tenants/{id} and its events (issue 11 item 5). */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
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

  it("emits tenant.provisioning_failing once, with the most common failure, and tenant.provisioning_recovered once", async () => {
    const tenant = await createTenant();
    const sweep = () => worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env);
    const healthEvents = async () =>
      (await (await admin(`/tenants/${tenant.id}/events`)).json<{ events: { type: string; data: Record<string, unknown> | null }[] }>()).events.filter((e) =>
        e.type.startsWith("tenant.provisioning_"),
      );
    expect(await createUser(tenant, "dup@example.com")).toBe(201);
    await sweep();
    expect(await healthEvents()).toEqual([]);

    for (let i = 0; i < 3; i += 1) expect(await createUser(tenant, "dup@example.com")).toBe(409);
    await expect.poll(async () => (await health(tenant)).status).toBe("failing");
    await sweep();
    await sweep();
    const failing = await healthEvents();
    expect(failing.map((e) => e.type)).toEqual(["tenant.provisioning_failing"]);
    expect(failing[0]?.data).toMatchObject({ recentRequests: 4, recentFailures: 3, mostCommonFailure: { status: 409, scimType: "uniqueness", count: 3 } });

    for (let i = 0; i < 3; i += 1) expect(await createUser(tenant, `fine${i}@example.com`)).toBe(201);
    expect((await health(tenant)).status).toBe("healthy");
    await sweep();
    await sweep();
    expect((await healthEvents()).map((e) => e.type)).toEqual(["tenant.provisioning_failing", "tenant.provisioning_recovered"]);
  });
});
