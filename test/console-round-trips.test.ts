/**
 * The D1 work of a console page, on the real bindings: the session lookup, then one batch for
 * the page (the user search a second for the page's groups), and a user search that reads a
 * bounded window of users however large the tenant is.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { USER_SEARCH_WINDOW } from "../src/storage/console-reads";
import { countingEnv, send } from "./support/counting-env";
import { admin, bodyOf, call, createTenant, ORIGIN, scim } from "./support/http";
import { seedUsers } from "./support/seed";
import { GROUP } from "./support/urns";
import { shardOf } from "./support/shards";

const counting = countingEnv(env);
const COOKIE = "__Host-scim_console";

async function signedIn(): Promise<{ tenantId: string; cookie: string; groupId: string }> {
  const tenant = await createTenant();
  const group = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Ops" } });
  const groupId = (await bodyOf<{ id: string }>(group)).id;
  const { url } = await bodyOf<{ url: string }>(await admin(`/tenants/${tenant.id}/console-links`, { method: "POST" }));
  const res = await call(url, { method: "POST", headers: { Origin: ORIGIN }, redirect: "manual" });
  const value = new RegExp(`^${COOKIE}=([^;]+)`).exec(res.headers.get("Set-Cookie") ?? "")?.[1] ?? "";
  return { tenantId: tenant.id, cookie: `${COOKIE}=${value}`, groupId };
}

describe("console pages' D1 work", () => {
  it("costs the session lookup plus one round trip per page (the user search two)", async () => {
    const { tenantId, cookie, groupId } = await signedIn();
    await seedUsers(env, tenantId, { users: 3 });
    const pages: [string, number][] = [
      ["", 2],
      ["/log", 2],
      ["/log?failures=1", 2],
      ["/users", 3],
      ["/users?q=user1&unassigned=1&status=active", 3],
      ["/groups", 2],
      [`/groups/${groupId}`, 2],
      ["/settings", 1],
    ];
    for (const [path, roundTrips] of pages) {
      const sent = await send(counting, new Request(`${ORIGIN}/console/${tenantId}${path}`, { headers: { Cookie: cookie } }));
      expect(sent.response.status, path).toBe(200);
      expect(sent.before.d1RoundTrips, path).toBe(roundTrips);
    }
    expect(counting.violations).toEqual([]);
  });

  it("walks at most one window of users per search page, and offers to continue", async () => {
    const { tenantId, cookie } = await signedIn();
    const seeded = await seedUsers(env, tenantId, { users: USER_SEARCH_WINDOW + 500 });
    const sent = await send(counting, new Request(`${ORIGIN}/console/${tenantId}/users?q=nobody-has-this`, { headers: { Cookie: cookie } }));
    expect(sent.response.status).toBe(200);
    const html = await sent.response.text();
    expect(html).toContain(`No match among the next ${USER_SEARCH_WINDOW} users`);
    expect(html).toMatch(/href="\/console\/[^"]+\/users\?q=nobody-has-this&amp;after=\d+"/);
    const rowsRead = sent.statements.reduce((sum, s) => sum + (s.rowsRead ?? 0), 0);
    // Each user in the window: its row, plus its email keys probed for the text (a few each).
    expect(rowsRead).toBeLessThan(USER_SEARCH_WINDOW * 6);
    const unassigned = await send(counting, new Request(`${ORIGIN}/console/${tenantId}/users?unassigned=1&status=inactive`, { headers: { Cookie: cookie } }));
    expect(unassigned.response.status).toBe(200);
    expect(unassigned.statements.reduce((sum, s) => sum + (s.rowsRead ?? 0), 0)).toBeLessThan(USER_SEARCH_WINDOW * 6);
    const last = await send(counting, new Request(`${ORIGIN}/console/${tenantId}/users?q=${seeded.userName(USER_SEARCH_WINDOW + 400)}`, { headers: { Cookie: cookie } }));
    expect(await last.response.text()).toContain("No match among the next");
  });

  it("reads failures only through the partial index on failures, never walking the successes", async () => {
    const { tenantId, cookie } = await signedIn();
    const sent = await send(counting, new Request(`${ORIGIN}/console/${tenantId}/log?failures=1`, { headers: { Cookie: cookie } }));
    const statement = sent.statements.find((s) => s.sql.includes("request_log"));
    if (!statement) throw new Error("no request_log statement");
    const plan = await (await shardOf(tenantId)).prepare(`EXPLAIN QUERY PLAN ${statement.sql}`).bind(...statement.params).all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join("; ")).toContain("request_log_tenant_failures");
  });
});
