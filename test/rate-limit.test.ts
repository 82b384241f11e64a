/** The tenant's request budget (BAD-INPUT.md: over the budget → 429 with Retry-After). */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, createTenant, scim } from "./support/http";

// vitest.config.ts gives the workerd tests a budget of 300 requests a minute per tenant.
const BUDGET = 300;
const WINDOW_MS = 60_000;

/**
 * Runs `spend` until one run falls inside a single budget window. The rate limiter's windows
 * are aligned to the wall clock, so a run that crosses a minute boundary sees its count reset
 * halfway; a run takes a few seconds, so the second attempt starts a fresh window and fits.
 */
async function withinOneWindow<T>(spend: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const window = Math.floor(Date.now() / WINDOW_MS);
    const result = await spend();
    if (Math.floor(Date.now() / WINDOW_MS) === window) return result;
  }
  throw new Error("two runs in a row crossed a rate-limit window");
}

describe("tenant request budget", () => {
  it("answers 429 with Retry-After after exactly the budget, without touching other tenants", async () => {
    const { busy, admitted, refusal } = await withinOneWindow(async () => {
      const busy = await createTenant();
      let admitted = 0;
      let refusal: Response | undefined;
      while (!refusal && admitted <= BUDGET) {
        const res = await scim(busy, "/ServiceProviderConfig");
        if (res.status === 429) refusal = res;
        else {
          expect(res.status).toBe(200);
          admitted++;
        }
      }
      return { busy, admitted, refusal };
    });
    expect(admitted).toBe(BUDGET);
    expect(refusal, "no 429 after the budget").toBeDefined();
    expect(refusal?.headers.get("Retry-After")).toBe("60");
    await expectScimError(refusal as Response, 429);
    const quiet = await createTenant();
    expect((await scim(quiet, "/ServiceProviderConfig")).status).toBe(200);
    // Refused requests write nothing, not even a log row: a flood must not become D1 writes.
    const log = await (await admin(`/tenants/${busy.id}/log`)).json<{ entries: { status: number }[] }>();
    expect(log.entries.filter((e) => e.status === 429)).toEqual([]);
  });

  it("does not spend a tenant's budget on requests with a wrong token", async () => {
    const status = await withinOneWindow(async () => {
      const tenant = await createTenant();
      for (let i = 0; i < BUDGET + 5; i++) {
        const res = await scim(tenant, "/ServiceProviderConfig", { token: "scim_wrong" });
        expect(res.status).toBe(401);
      }
      return (await scim(tenant, "/ServiceProviderConfig")).status;
    });
    expect(status).toBe(200);
  });
});
