/**
 * Issue 10 item 2: D1 decides, KV caches. A token works at its first request wherever KV has
 * not seen it yet (a KV miss is asked of D1, one extra round trip, then written back), a rotated
 * token still fails at once, made-up tokens cost a bounded number of D1 lookups, and concurrent
 * rotations leave exactly one token in KV.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { TEST_ADMIN_TOKEN } from "./support/admin-token";
import { countingEnv, send, type StatementRecord } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { sha256 } from "./support/hash";
import { admin, createTenant, ORIGIN, scim, type TestTenant } from "./support/http";

const SPC = "/ServiceProviderConfig";
const kvKey = (hash: string) => `token:v1:${hash}`;
const counting = countingEnv(env);

/** A token of the issued shape that nobody issued. */
function madeUpToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `scim_${btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
}

/** A client network of its own per test: the failure budget is per tenant and address (an IPv6 /64). */
function clientIp(): string {
  const [a = 0, b = 0] = crypto.getRandomValues(new Uint16Array(2));
  return `2001:db8:${a.toString(16)}:${b.toString(16)}::1`;
}

function spcRequest(baseUrl: string, token: string, ip?: string): Request {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (ip) headers["CF-Connecting-IP"] = ip;
  return new Request(`${baseUrl}${SPC}`, { headers });
}

/** The slow path's D1 lookup of a token hash (tenants by token_hash, previous hash or id). */
const isTokenLookup = (s: StatementRecord) => /^select .* from "tenants" where .*"token_hash" = \? or .*"previous_token_hash" = \?/i.test(s.sql);

/** Runs `spend` until one run falls inside a single rate-limit window (windows follow the wall clock). */
async function withinOneWindow<T>(spend: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const window = Math.floor(Date.now() / 60_000);
    const result = await spend();
    if (Math.floor(Date.now() / 60_000) === window) return result;
  }
  throw new Error("two runs in a row crossed a rate-limit window");
}

/**
 * Sends requests one after another through the counting env without waiting for each one's
 * waitUntil (the failure aggregates wait up to a second to coalesce), then waits for all.
 */
async function sendAll(requests: Request[]): Promise<{ statuses: number[]; lookups: number }> {
  counting.reset();
  const contexts: ExecutionContext[] = [];
  const statuses: number[] = [];
  for (const request of requests) {
    const ctx = createExecutionContext();
    contexts.push(ctx);
    const response = await worker.fetch(request, counting.env, ctx);
    statuses.push(response.status);
    await response.arrayBuffer();
  }
  await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
  const lookups = counting.roundTrips.flatMap((t) => t.statements).filter(isTokenLookup).length;
  return { statuses, lookups };
}

/** KV as seen from a location that never saw any write: reads miss, writes vanish. */
function kvElsewhere(): KVNamespace {
  return new Proxy(env.TOKENS, {
    get(target, property) {
      if (property === "get") return () => Promise.resolve(null);
      if (property === "put" || property === "delete") return () => Promise.resolve();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function fetchWith(envOverride: Cloudflare.Env, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, envOverride, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("a KV miss is decided by D1", () => {
  it("answers 200 when the token's KV entry is gone, at exactly one extra D1 round trip, and writes the entry back", async () => {
    const tenant = await createTenant();
    const hash = await sha256(tenant.token);
    const warm = await send(counting, spcRequest(tenant.baseUrl, tenant.token));
    expect(warm.response.status).toBe(200);

    await env.TOKENS.delete(kvKey(hash));
    const miss = await send(counting, spcRequest(tenant.baseUrl, tenant.token));
    expect(miss.response.status, await miss.response.clone().text()).toBe(200);
    expect(miss.before.d1RoundTrips).toBe(warm.before.d1RoundTrips + 1);
    expect(miss.statements.filter(isTokenLookup)).toHaveLength(1);
    expect(await env.TOKENS.get(kvKey(hash), "json")).toEqual({ tenantId: tenant.id });
    // A write-back expires (it may have raced a rotation); the next miss writes it again.
    const [written] = (await env.TOKENS.list({ prefix: kvKey(hash) })).keys;
    expect(written?.expiration).toBeGreaterThan(Date.now() / 1000);

    // Back on the fast path: no lookup, no extra round trip.
    const again = await send(counting, spcRequest(tenant.baseUrl, tenant.token));
    expect(again.response.status).toBe(200);
    expect(again.before.d1RoundTrips).toBe(warm.before.d1RoundTrips);
    expect(again.statements.filter(isTokenLookup)).toHaveLength(0);
  });

  it("accepts a token at a location whose KV never saw it: at creation and after a rotation", async () => {
    const elsewhere = { ...env, TOKENS: kvElsewhere() };
    const created = await fetchWith(
      elsewhere,
      new Request(`${ORIGIN}/admin/tenants`, {
        method: "POST",
        headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "Elsewhere", provider: "entra" }),
      }),
    );
    expect(created.status).toBe(201);
    const body = await created.json<{ tenant: { id: string }; scim: { baseUrl: string; token: string } }>();
    const first = await fetchWith(elsewhere, spcRequest(body.scim.baseUrl, body.scim.token));
    expect(first.status, await first.clone().text()).toBe(200);

    const rotated = await fetchWith(
      elsewhere,
      new Request(`${ORIGIN}/admin/tenants/${body.tenant.id}/token`, { method: "POST", headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }),
    );
    const { scim: issued } = await rotated.json<{ scim: { token: string } }>();
    expect((await fetchWith(elsewhere, spcRequest(body.scim.baseUrl, issued.token))).status).toBe(200);
    await expectScimError(await fetchWith(elsewhere, spcRequest(body.scim.baseUrl, body.scim.token)), 401);
  });

  it("voids a rotated token at once, though D1 just confirmed it and KV has it written back", async () => {
    const tenant = await createTenant();
    const hash = await sha256(tenant.token);
    await env.TOKENS.delete(kvKey(hash));
    expect((await scim(tenant, SPC)).status).toBe(200); // through D1, written back to KV
    const rotated = await admin(`/tenants/${tenant.id}/token`, { method: "POST" });
    const { scim: issued } = await rotated.json<{ scim: { token: string } }>();
    await expectScimError(await scim(tenant, SPC), 401);
    // A write-back that raced the rotation.
    await env.TOKENS.put(kvKey(hash), JSON.stringify({ tenantId: tenant.id }));
    await expectScimError(await scim(tenant, SPC), 401);
    expect((await scim(tenant, SPC, { token: issued.token })).status).toBe(200);
  });

  it("looks the hash up through indexes, never by scanning the tenants", async () => {
    const tenant = await createTenant();
    await env.TOKENS.delete(kvKey(await sha256(tenant.token)));
    const sent = await send(counting, spcRequest(tenant.baseUrl, tenant.token));
    const [lookup] = sent.statements.filter(isTokenLookup);
    if (!lookup) throw new Error("no token lookup was sent");
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${lookup.sql}`)
      .bind(...lookup.params)
      .all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail);
    expect(details.join("\n")).not.toMatch(/SCAN/);
    for (const index of ["tenants_token_hash", "tenants_previous_token_hash", "sqlite_autoindex_tenants_1"]) {
      expect(details.join("\n"), details.join("\n")).toContain(index);
    }
  });

  it("looks another tenant's token up in D1 and refuses it", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    const result = await sendAll([spcRequest(a.baseUrl, b.token, clientIp())]);
    expect(result).toEqual({ statuses: [401], lookups: 1 });
  });
});

describe("made-up tokens cost a bounded number of D1 lookups", () => {
  const BUDGET = 60;

  it("asks D1 once per made-up token up to the client's failure budget, then answers 429 without asking", async () => {
    const { tenant, ip, result } = await withinOneWindow(async () => {
      const tenant = await createTenant();
      const ip = clientIp();
      const result = await sendAll(Array.from({ length: BUDGET + 20 }, () => spcRequest(tenant.baseUrl, madeUpToken(), ip)));
      return { tenant, ip, result };
    });
    expect(result.statuses.slice(0, BUDGET)).toEqual(Array(BUDGET).fill(401));
    expect(result.statuses.slice(BUDGET)).toEqual(Array(20).fill(429));
    // The request that found the budget spent still asked; the isolate then stops asking.
    expect(result.lookups).toBe(BUDGET + 1);

    // Another client of the same tenant has its own budget; the tenant's own token still works.
    const other = await sendAll([spcRequest(tenant.baseUrl, madeUpToken(), clientIp())]);
    expect(other).toEqual({ statuses: [401], lookups: 1 });
    const valid = await sendAll([spcRequest(tenant.baseUrl, tenant.token, ip)]);
    expect(valid).toEqual({ statuses: [200], lookups: 0 });
  });

  it("counts an IPv6 client by its /64: other addresses of the same /64 share its budget", async () => {
    const { result } = await withinOneWindow(async () => {
      const tenant = await createTenant();
      const network = clientIp().replace(/::1$/, "");
      const requests = Array.from({ length: BUDGET + 5 }, (_, i) => spcRequest(tenant.baseUrl, madeUpToken(), `${network}:${(i + 1).toString(16)}:0:0:1`));
      return { result: await sendAll(requests) };
    });
    expect(result.statuses.slice(0, BUDGET)).toEqual(Array(BUDGET).fill(401));
    expect(result.statuses.slice(BUDGET)).toEqual(Array(5).fill(429));
  });

  it("asks D1 once for a made-up token sent again and again", async () => {
    const tenant = await createTenant();
    const token = madeUpToken();
    const ip = clientIp();
    const result = await sendAll(Array.from({ length: 10 }, () => spcRequest(tenant.baseUrl, token, ip)));
    expect(result).toEqual({ statuses: Array(10).fill(401), lookups: 1 });
  });

  it("gives made-up tenant ids one budget per address, not one each", async () => {
    const ip = clientIp();
    const result = await withinOneWindow(() =>
      sendAll(Array.from({ length: BUDGET + 10 }, () => spcRequest(`${ORIGIN}/scim/v2/${crypto.randomUUID()}`, madeUpToken(), ip))),
    );
    expect(result.statuses.filter((s) => s === 401)).toHaveLength(BUDGET);
    expect(result.lookups).toBe(BUDGET + 1);
  });

  it("refuses a token that is not of the issued shape without any lookup", async () => {
    const tenant: TestTenant = await createTenant();
    counting.reset();
    const sent = await send(counting, spcRequest(tenant.baseUrl, "scim_wrong"));
    await expectScimError(sent.response, 401);
    expect(sent.before).toMatchObject({ d1RoundTrips: 0, kvReads: 0 });
  });
});

describe("token rotation", () => {
  it("leaves exactly one working token, and only its key in KV, after concurrent rotations", async () => {
    const tenant = await createTenant();
    const responses = await Promise.all(Array.from({ length: 5 }, () => admin(`/tenants/${tenant.id}/token`, { method: "POST" })));
    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(200));
    const tokens = await Promise.all(responses.map(async (r) => (await r.json<{ scim: { token: string } }>()).scim.token));
    const inKv = await Promise.all([tenant.token, ...tokens].map(async (t) => (await env.TOKENS.get(kvKey(await sha256(t)))) !== null));
    const statuses = await Promise.all(tokens.map(async (token) => (await scim(tenant, SPC, { token })).status));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(4);
    const winner = statuses.indexOf(200);
    expect(inKv).toEqual([false, ...tokens.map((_, i) => i === winner)]);
  });
});
