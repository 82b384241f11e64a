/**
 * Issue 10 item 6: failed authentications the operator can see. Per tenant in the URL, the
 * aggregates (count, first and last time, last reason, last user agent) show in
 * GET /admin/tenants/{id} and reset once a request authenticates. Written at most once a second
 * per isolate, never with a token or hash in them.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { countingEnv } from "./support/counting-env";
import { sha256 } from "./support/hash";
import { admin, call, createTenant, scim, type TestTenant } from "./support/http";
import { everyShard, shardOf } from "./support/shards";

const SPC = "/ServiceProviderConfig";
const AGENT = "Okta SCIM Client 1.0.0";

interface AuthFailures {
  count: number;
  firstAt: string | null;
  lastAt: string | null;
  lastReason: string | null;
  lastUserAgent: string | null;
}

async function authFailuresOf(tenant: TestTenant): Promise<AuthFailures> {
  const res = await admin(`/tenants/${tenant.id}`);
  const body = await res.json<{ authFailures: AuthFailures }>();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.authFailures;
}

/** Failures are written after the response, coalesced up to a second: poll until `count` shows. */
async function untilCount(tenant: TestTenant, count: number): Promise<AuthFailures> {
  await expect.poll(async () => (await authFailuresOf(tenant)).count).toBe(count);
  return authFailuresOf(tenant);
}

type ScimInit = NonNullable<Parameters<typeof scim>[2]>;

function withAgent(init: ScimInit = {}): ScimInit {
  return { ...init, headers: { "User-Agent": AGENT, ...Object.fromEntries(new Headers(init.headers)) } };
}

/** Each reason and how an IdP gets it. */
const cases: { reason: string; fail: (tenant: TestTenant) => Promise<Response> }[] = [
  { reason: "missing", fail: (t) => scim(t, SPC, withAgent({ token: null })) },
  { reason: "malformed", fail: (t) => scim(t, SPC, withAgent({ token: null, headers: { Authorization: `Basic ${btoa("okta:secret")}` } })) },
  { reason: "malformed", fail: (t) => scim(t, SPC, withAgent({ token: "scim_wrong" })) },
  { reason: "unknown", fail: (t) => scim(t, SPC, withAgent({ token: `${t.token.slice(0, -1)}${t.token.endsWith("A") ? "B" : "A"}` })) },
  {
    reason: "rotated",
    fail: async (t) => {
      await admin(`/tenants/${t.id}/token`, { method: "POST" });
      return scim(t, SPC, withAgent());
    },
  },
  {
    reason: "rotated",
    fail: async (t) => {
      // The fast path: KV still maps the old token to the tenant; the tenant row refuses it.
      const oldHash = await sha256(t.token);
      await admin(`/tenants/${t.id}/token`, { method: "POST" });
      await env.TOKENS.put(`token:v1:${oldHash}`, JSON.stringify({ tenantId: t.id }));
      return scim(t, SPC, withAgent());
    },
  },
  {
    reason: "other-tenant",
    fail: async (t) => {
      const other = await createTenant();
      return scim(t, SPC, withAgent({ token: other.token }));
    },
  },
  {
    reason: "disabled",
    fail: async (t) => {
      await admin(`/tenants/${t.id}`, { method: "PATCH", json: { enabled: false } });
      return scim(t, SPC, withAgent());
    },
  },
  {
    reason: "disabled",
    fail: async (t) => {
      // A group write: the refusal comes back from the tenant's Durable Object.
      await admin(`/tenants/${t.id}`, { method: "PATCH", json: { enabled: false } });
      return scim(t, "/Groups", withAgent({ method: "POST", json: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Ops" } }));
    },
  },
];

describe("failed authentications", () => {
  it("shows count 0 and nulls for a tenant without failures", async () => {
    const tenant = await createTenant();
    expect(await authFailuresOf(tenant)).toEqual({ count: 0, firstAt: null, lastAt: null, lastReason: null, lastUserAgent: null });
  });

  it.each(cases.map((c, i) => [`${c.reason} (${i})`, c] as const))("records %s", async (_, { reason, fail }) => {
    const tenant = await createTenant();
    const res = await fail(tenant);
    expect([401, 403], await res.clone().text()).toContain(res.status);
    const failures = await untilCount(tenant, 1);
    expect(failures.firstAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(failures).toEqual({ count: 1, firstAt: failures.firstAt, lastAt: failures.firstAt, lastReason: reason, lastUserAgent: AGENT });
  });

  it("counts every failure, keeps the first time and the last reason, and truncates the user agent", async () => {
    const tenant = await createTenant();
    await scim(tenant, SPC, withAgent({ token: null }));
    const first = await untilCount(tenant, 1);
    const longAgent = `Mozilla/5.0 ${"x".repeat(500)}`;
    await scim(tenant, SPC, { token: "scim_wrong", headers: { "User-Agent": longAgent } });
    const second = await untilCount(tenant, 2);
    expect(second).toMatchObject({ firstAt: first.firstAt, lastReason: "malformed", lastUserAgent: longAgent.slice(0, 200) });
  });

  it("resets when a read authenticates", async () => {
    const tenant = await createTenant();
    await scim(tenant, SPC, withAgent({ token: "scim_wrong" }));
    await untilCount(tenant, 1);
    expect((await scim(tenant, "/Users?count=1")).status).toBe(200);
    await expect.poll(() => authFailuresOf(tenant)).toEqual({ count: 0, firstAt: null, lastAt: null, lastReason: null, lastUserAgent: null });
  });

  it("resets when a write authenticates, and when a request re-enables the failures' cause", async () => {
    const tenant = await createTenant();
    await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { enabled: false } });
    await scim(tenant, SPC);
    await untilCount(tenant, 1);
    await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { enabled: true } });
    const created = await scim(tenant, "/Users", { method: "POST", json: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "a@example.com" } });
    expect(created.status, await created.clone().text()).toBe(201);
    await untilCount(tenant, 0);
  });

  it("resets even when the failures were written by another isolate (only the stored count knows)", async () => {
    const tenant = await createTenant();
    // As another isolate would have left them: nothing of them in this isolate's memory.
    await (await shardOf(tenant.id)).prepare(
      "INSERT INTO auth_failures (tenant_id, count, first_at, last_at, last_reason, last_user_agent) VALUES (?, 3, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 'unknown', NULL)",
    )
      .bind(tenant.id)
      .run();
    expect((await authFailuresOf(tenant)).count).toBe(3);
    // The first request stamps "last used" (and clears with it); the stamp is once a minute per
    // isolate, so the second one must learn of the failures from the tenant row it reads.
    expect((await scim(tenant, SPC)).status).toBe(200);
    await untilCount(tenant, 0);
    await (await shardOf(tenant.id)).prepare(
      "INSERT INTO auth_failures (tenant_id, count, first_at, last_at, last_reason, last_user_agent) VALUES (?, 2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', 'unknown', NULL)",
    )
      .bind(tenant.id)
      .run();
    expect((await scim(tenant, "/Users?count=1")).status).toBe(200);
    await untilCount(tenant, 0);
  });

  it("records nothing for a tenant id that does not exist", async () => {
    const missing = crypto.randomUUID();
    expect((await call(`/scim/v2/${missing}${SPC}`)).status).toBe(401);
    const tenant = await createTenant();
    await scim(tenant, SPC, { token: null });
    // Both were pending in this isolate; once the real tenant's shows, the other was written too.
    await untilCount(tenant, 1);
    // No shard holds a row for it (an unknown tenant has no shard to record it in).
    for (const db of everyShard()) {
      const rows = await db.prepare("SELECT count(*) AS n FROM auth_failures WHERE tenant_id = ?").bind(missing).first<{ n: number }>();
      expect(rows?.n).toBe(0);
    }
  });

  it("removes them with the tenant", async () => {
    const tenant = await createTenant();
    await scim(tenant, SPC, { token: null });
    await untilCount(tenant, 1);
    expect((await admin(`/tenants/${tenant.id}`, { method: "DELETE" })).status).toBe(204);
    for (const db of everyShard()) {
      const rows = await db.prepare("SELECT count(*) AS n FROM auth_failures WHERE tenant_id = ?").bind(tenant.id).first<{ n: number }>();
      expect(rows?.n).toBe(0);
    }
  });

  it("never stores the token or its hash", async () => {
    const [tenant, other] = await Promise.all([createTenant(), createTenant()]);
    await scim(tenant, SPC, { token: other.token, headers: { "User-Agent": AGENT } });
    await untilCount(tenant, 1);
    const row = await (await shardOf(tenant.id)).prepare("SELECT * FROM auth_failures WHERE tenant_id = ?").bind(tenant.id).first();
    const stored = JSON.stringify(row);
    expect(stored).toContain("other-tenant");
    for (const secret of [other.token, await sha256(other.token), other.id]) expect(stored).not.toContain(secret);
  });

  it("writes a flood of failures as a few coalesced UPSERTs, losing no count", async () => {
    const tenant = await createTenant();
    const counting = countingEnv(env);
    const FLOOD = 100;
    const started = Date.now();
    const contexts = await Promise.all(
      Array.from({ length: FLOOD }, async () => {
        const ctx = createExecutionContext();
        const res = await worker.fetch(new Request(`${tenant.baseUrl}${SPC}`), counting.env, ctx);
        expect(res.status).toBe(401);
        return ctx;
      }),
    );
    await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    const elapsedSeconds = Math.ceil((Date.now() - started) / 1000);
    const upserts = counting.roundTrips.flatMap((t) => t.statements).filter((s) => /^insert into "auth_failures"/i.test(s.sql));
    // At most one write a second (plus the first, written at once), however many failures.
    expect(upserts.length).toBeGreaterThan(0);
    expect(upserts.length).toBeLessThanOrEqual(elapsedSeconds + 1);
    expect(upserts.length).toBeLessThan(FLOOD / 10);
    await untilCount(tenant, FLOOD);
  });
});
