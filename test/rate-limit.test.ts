/** The tenant's request budget (BAD-INPUT.md: over the budget → 429 with Retry-After). */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, createTenant, scim } from "./support/http";

// vitest.config.ts gives the workerd tests a budget of 300 requests a minute per tenant.
const BUDGET = 300;

describe("tenant request budget", () => {
  it("answers 429 with Retry-After once a tenant spends its budget, without touching other tenants", async () => {
    const [busy, quiet] = await Promise.all([createTenant(), createTenant()]);
    let firstRefusal: Response | undefined;
    for (let i = 0; i <= BUDGET + 5 && !firstRefusal; i++) {
      const res = await scim(busy, "/ServiceProviderConfig");
      if (res.status === 429) firstRefusal = res;
      else expect(res.status).toBe(200);
    }
    expect(firstRefusal, "no 429 after the budget").toBeDefined();
    const refusal = firstRefusal as Response;
    expect(refusal.headers.get("Retry-After")).toBe("60");
    await expectScimError(refusal, 429);
    expect((await scim(quiet, "/ServiceProviderConfig")).status).toBe(200);
    // Refused requests write nothing, not even a log row: a flood must not become D1 writes.
    const log = await (await admin(`/tenants/${busy.id}/log`)).json<{ entries: { status: number }[] }>();
    expect(log.entries.filter((e) => e.status === 429)).toEqual([]);
  });

  it("does not spend a tenant's budget on requests with a wrong token", async () => {
    const tenant = await createTenant();
    for (let i = 0; i < BUDGET + 5; i++) {
      const res = await scim(tenant, "/ServiceProviderConfig", { token: "scim_wrong" });
      expect(res.status).toBe(401);
    }
    expect((await scim(tenant, "/ServiceProviderConfig")).status).toBe(200);
  });
});
