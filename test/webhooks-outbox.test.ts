/**
 * The webhook outbox on the real bindings (issue 11 item 3): a SCIM write's new events reach the
 * queue after the response with no D1 work of its own, the consumer fans them out to the
 * endpoints whose filters match, and the sweep re-enqueues what a lost send left behind. The
 * receiving side (signatures, retries, failure) runs against a real HTTP receiver in
 * test/webhooks/ (a Node project: workerd tests cannot listen on a port).
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { consumeWebhookBatch, DEAD_LETTER_QUEUE } from "../src/webhooks/consumer";
import { forgetEndpointScope } from "../src/webhooks/endpoint-scope";
import { countingEnv, send } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { admin, createTenant, scim, type TestTenant } from "./support/http";
import { PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

// Nothing listens there: attempts fail fast with a network error, which is all these tests need.
const UNREACHABLE = "http://127.0.0.1:9/hook";

interface DeliveryJson {
  id: number;
  eventId: string;
  type: string;
  tenantId: string | null;
  status: string;
  attempts: number;
  lastError: string | null;
}

async function createEndpoint(body: Record<string, unknown>): Promise<string> {
  const res = await admin("/webhooks", { method: "POST", json: { url: UNREACHABLE, ...body } });
  expect(res.status).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

async function deliveries(endpointId: string): Promise<DeliveryJson[]> {
  const res = await admin(`/webhooks/${endpointId}/deliveries`);
  expect(res.status).toBe(200);
  return (await res.json<{ deliveries: DeliveryJson[] }>()).deliveries;
}

function createUser(tenant: TestTenant, userName: string): Request {
  return new Request(`${tenant.baseUrl}/Users`, {
    method: "POST",
    headers: { Authorization: `Bearer ${tenant.token}`, "Content-Type": "application/scim+json" },
    body: JSON.stringify({ schemas: [USER], userName }),
  });
}

async function unenqueued(tenantId: string): Promise<number> {
  const row = await (await shardOf(tenantId)).prepare("SELECT count(*) AS n FROM events WHERE tenant_id = ? AND enqueued_at IS NULL").bind(tenantId).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("webhook outbox", () => {
  it("a write no endpoint listens to sends nothing; with one, no D1 round trip before the response and one message for a burst", async () => {
    const sent: { body: unknown; options?: QueueSendOptions }[] = [];
    const recordingQueue = {
      send: (body: unknown, options?: QueueSendOptions) => {
        sent.push({ body, options });
        return env.WEBHOOK_QUEUE.send(body, options);
      },
      sendBatch: (messages: Iterable<MessageSendRequest>) => env.WEBHOOK_QUEUE.sendBatch(messages),
    } as unknown as Queue;
    const counting = countingEnv({ ...env, WEBHOOK_QUEUE: recordingQueue });
    const tenant = await createTenant();
    // Another tenant's endpoint: the scope is per tenant, not "any endpoint at all".
    await createEndpoint({ tenantIds: [crypto.randomUUID()] });
    forgetEndpointScope();
    const without = await send(counting, createUser(tenant, "before.hook@example.com"));
    expect(without.response.status).toBe(201);
    expect(sent).toEqual([]);
    expect(await unenqueued(tenant.id)).toBe(1);
    // The sweep claims it in bulk (no endpoint wants it), without a message.
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env);
    expect(await unenqueued(tenant.id)).toBe(0);
    expect(sent).toEqual([]);

    const endpointId = await createEndpoint({ tenantIds: [tenant.id] });
    // The admin call drops its isolate's cached scope; this one stands for any other isolate past its TTL.
    forgetEndpointScope();
    const withHook = await send(counting, createUser(tenant, "with.hook.0@example.com"));
    expect(withHook.response.status).toBe(201);
    expect(withHook.before).toEqual(without.before);
    // The scope's read, once per SCOPE_TTL_MS per isolate.
    expect(withHook.after.d1RoundTrips).toBe(1);
    expect(sent).toEqual([{ body: { kind: "tenant", tenantId: tenant.id }, options: { contentType: "json" } }]);
    // A burst: one more message, delayed so that it claims every write of the burst.
    for (let i = 1; i <= 4; i += 1) {
      const next = await send(counting, createUser(tenant, `with.hook.${i}@example.com`));
      expect(next.response.status).toBe(201);
      expect(next.before).toEqual(without.before);
      expect(next.after.d1RoundTrips).toBe(0);
    }
    expect(sent.slice(1)).toEqual([{ body: { kind: "tenant", tenantId: tenant.id }, options: { contentType: "json", delaySeconds: 1 } }]);
    await expect.poll(async () => (await deliveries(endpointId)).map((d) => d.type)).toEqual(Array(5).fill("user.created"));
    expect(await unenqueued(tenant.id)).toBe(0);
  });

  it("a stale cached scope delays an event to the sweep but cannot lose it", async () => {
    const tenant = await createTenant();
    // Records what the writes send and delivers none of it, so only the sweep can claim the events.
    const sent: unknown[] = [];
    const recordingQueue = { send: (body: unknown) => Promise.resolve(void sent.push(body)), sendBatch: () => Promise.resolve() } as unknown as Queue;
    const write = async (userName: string) => {
      const ctx = createExecutionContext();
      expect((await worker.fetch(createUser(tenant, userName), { ...env, WEBHOOK_QUEUE: recordingQueue }, ctx)).status).toBe(201);
      await waitOnExecutionContext(ctx);
    };
    forgetEndpointScope();
    // This isolate learns that nobody listens to the tenant…
    await write("stale.0@example.com");
    // …then an endpoint appears through another isolate (written straight to D1: this isolate is not told).
    const endpointId = crypto.randomUUID();
    const now = new Date().toISOString();
    await env.DB.prepare("INSERT INTO webhook_endpoints (id, url, tenant_ids, enabled, secret, created_at, updated_at) VALUES (?, ?, ?, 1, 'whsec_AAAA', ?, ?)")
      .bind(endpointId, UNREACHABLE, JSON.stringify([tenant.id]), now, now)
      .run();
    await write("stale.1@example.com");
    expect(sent).toEqual([]);
    // The sweep's bulk mark runs at once but leaves what an endpoint wants; a minute on, the sweep sends it.
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env);
    expect(await unenqueued(tenant.id)).toBe(2);
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 120_000, cron: "* * * * *" }), env);
    await expect.poll(async () => (await deliveries(endpointId)).map((d) => d.type)).toEqual(["user.created", "user.created"]);
    expect(await unenqueued(tenant.id)).toBe(0);
  });

  it("attempts a queue batch of deliveries with one D1 read and one D1 batch for all their outcomes", async () => {
    const endpointId = await createEndpoint({ tenantIds: ["nobody"] });
    const at = new Date().toISOString();
    const ids: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const payload = JSON.stringify({ id: `evt_batch_${i}`, type: "webhook.test", tenantId: null, occurredAt: at, seq: null, data: {} });
      const row = await env.DB.prepare(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, status, attempts, created_at, updated_at) VALUES (?, ?, 'webhook.test', ?, 'pending', 0, ?, ?) RETURNING id",
      )
        .bind(endpointId, `evt_batch_${i}`, payload, at, at)
        .first<{ id: number }>();
      ids.push(row?.id ?? 0);
    }
    const retried: unknown[] = [];
    const messages = ids.map((deliveryId) => ({ body: { kind: "delivery", deliveryId }, attempts: 1, ack: () => retried.push("ack"), retry: (options?: unknown) => retried.push(options) }));
    const counting = countingEnv({ ...env, WEBHOOK_RETRY_SCHEDULE: "60" });
    await consumeWebhookBatch({ queue: "scim-edge-webhooks", messages } as unknown as MessageBatch, counting.env);
    expect(counting.counts.d1RoundTrips).toBe(2);
    // The receiver is unreachable: every delivery failed its first attempt and retries in about a minute (±10 %).
    expect(retried).toHaveLength(20);
    for (const options of retried as { delaySeconds: number }[]) {
      expect(options.delaySeconds).toBeGreaterThanOrEqual(54);
      expect(options.delaySeconds).toBeLessThanOrEqual(66);
    }
    expect((await deliveries(endpointId)).map((d) => [d.status, d.attempts])).toEqual(Array(20).fill(["retrying", 1]));
    expect((await (await admin(`/webhooks/${endpointId}`)).json<{ failingSince: string | null }>()).failingSince).toEqual(expect.any(String));
  });

  it("reads a full queue batch of one tenant's event deliveries from its shard within D1's 100 bound parameters", async () => {
    // 100 deliveries of one tenant's events: the tenant id and 100 seqs would bind 101 parameters.
    const tenant = await createTenant();
    for (let i = 0; i < 100; i += 1) {
      const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `batch-${i}@example.com` } });
      expect(res.status).toBe(201);
    }
    const endpointId = await createEndpoint({ tenantIds: ["nobody"] });
    const { results: seqs } = await (await shardOf(tenant.id)).prepare("SELECT seq FROM events WHERE tenant_id = ? ORDER BY seq LIMIT 100").bind(tenant.id).all<{ seq: number }>();
    expect(seqs).toHaveLength(100);
    const at = new Date().toISOString();
    const ids: number[] = [];
    for (const { seq } of seqs) {
      const row = await env.DB.prepare(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_seq, event_type, tenant_id, status, attempts, created_at, updated_at) VALUES (?, ?, ?, 'user.created', ?, 'pending', 0, ?, ?) RETURNING id",
      )
        .bind(endpointId, `evt_${tenant.id}_${seq}`, seq, tenant.id, at, at)
        .first<{ id: number }>();
      ids.push(row?.id ?? 0);
    }
    const outcomes: unknown[] = [];
    const messages = ids.map((deliveryId) => ({ body: { kind: "delivery", deliveryId }, attempts: 1, ack: () => outcomes.push("ack"), retry: (options?: unknown) => outcomes.push(options) }));
    // countingEnv refuses a statement over 100 parameters, as production D1 does.
    const counting = countingEnv({ ...env, WEBHOOK_RETRY_SCHEDULE: "60" });
    await consumeWebhookBatch({ queue: "scim-edge-webhooks", messages } as unknown as MessageBatch, counting.env);
    expect(outcomes).toHaveLength(100);
    // Every delivery found its event (an event-less one would be failed "no longer kept") and was attempted.
    expect((await deliveries(endpointId)).map((d) => [d.status, d.attempts])).toEqual(Array(100).fill(["retrying", 1]));
  });

  it("marks a dead-lettered delivery failed, visible and retryable through the API", async () => {
    const endpointId = await createEndpoint({ tenantIds: ["nobody"] });
    const at = new Date().toISOString();
    const row = await env.DB.prepare(
      "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, status, attempts, created_at, updated_at) VALUES (?, 'evt_dlq', 'webhook.test', '{}', 'retrying', 3, ?, ?) RETURNING id",
    )
      .bind(endpointId, at, at)
      .first<{ id: number }>();
    const acked: number[] = [];
    const message = { body: { kind: "delivery", deliveryId: row?.id }, attempts: 16, ack: () => acked.push(1), retry: () => {} };
    await consumeWebhookBatch({ queue: DEAD_LETTER_QUEUE, messages: [message] } as unknown as MessageBatch, env);
    expect(acked).toEqual([1]);
    const [failed] = await deliveries(endpointId);
    expect(failed).toMatchObject({ status: "failed", attempts: 3, lastError: "dead-lettered after 16 queue attempts" });
    expect((await admin(`/webhooks/${endpointId}/deliveries/${row?.id}/retry`, { method: "POST" })).status).toBe(202);
  });

  it("pages deliveries newest first with before=next", async () => {
    const endpointId = await createEndpoint({ tenantIds: ["nobody"] });
    const at = new Date().toISOString();
    for (const eventId of ["evt_p1", "evt_p2", "evt_p3"]) {
      await env.DB.prepare(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status, attempts, created_at, updated_at) VALUES (?, ?, 'user.created', 'delivered', 1, ?, ?)",
      )
        .bind(endpointId, eventId, at, at)
        .run();
    }
    const page = async (query: string) => (await admin(`/webhooks/${endpointId}/deliveries${query}`)).json<{ deliveries: DeliveryJson[]; next: number | null }>();
    const first = await page("?limit=2");
    expect(first.deliveries.map((d) => d.eventId)).toEqual(["evt_p3", "evt_p2"]);
    expect(first.next).toBe(first.deliveries[1]?.id);
    const second = await page(`?limit=2&before=${first.next}`);
    expect(second.deliveries.map((d) => d.eventId)).toEqual(["evt_p1"]);
    expect(second.next).toBeNull();
    await expectScimError(await admin(`/webhooks/${endpointId}/deliveries?before=abc`), 400, "invalidValue");
  });

  it("fans out only to enabled endpoints whose tenantIds and events filters match", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const all = await createEndpoint({ tenantIds: [tenant.id, other.id] });
    const onlyOther = await createEndpoint({ tenantIds: [other.id] });
    const onlyDeletes = await createEndpoint({ tenantIds: [tenant.id], events: ["user.deleted"] });
    const disabled = await createEndpoint({ tenantIds: [tenant.id] });
    expect((await admin(`/webhooks/${disabled}`, { method: "PATCH", json: { enabled: false } })).status).toBe(200);

    const res = await worker.fetch(createUser(tenant, "fan.out@example.com"), env, createExecutionContext());
    expect(res.status).toBe(201);
    await expect.poll(() => unenqueued(tenant.id)).toBe(0);
    await expect.poll(async () => (await deliveries(all)).map((d) => [d.type, d.tenantId, d.eventId])).toEqual([
      ["user.created", tenant.id, expect.stringMatching(/^evt_\d+$/)],
    ]);
    expect(await deliveries(onlyOther)).toEqual([]);
    expect(await deliveries(onlyDeletes)).toEqual([]);
    expect(await deliveries(disabled)).toEqual([]);
  });

  it("the sweep delivers an event whose enqueue after the write never happened", async () => {
    const tenant = await createTenant();
    const endpointId = await createEndpoint({ tenantIds: [tenant.id] });
    const dropped: unknown[] = [];
    const lostQueue = { send: (body: unknown) => Promise.resolve(void dropped.push(body)), sendBatch: () => Promise.resolve() } as unknown as Queue;
    const ctx = createExecutionContext();
    const res = await worker.fetch(createUser(tenant, "swept@example.com"), { ...env, WEBHOOK_QUEUE: lostQueue }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(201);
    expect(dropped).toEqual([{ kind: "tenant", tenantId: tenant.id }]);
    expect(await unenqueued(tenant.id)).toBe(1);

    // A minute is the sweep's grace period; a run within it leaves the event to the after-write send.
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env);
    expect(await unenqueued(tenant.id)).toBe(1);
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 120_000, cron: "* * * * *" }), env);
    await expect.poll(() => unenqueued(tenant.id)).toBe(0);
    // Delivered means attempted here: the receiver is unreachable, so the first attempt failed and a retry is scheduled.
    await expect.poll(async () => (await deliveries(endpointId)).map((d) => [d.type, d.status, d.attempts])).toEqual([["user.created", "retrying", 1]]);
    expect((await deliveries(endpointId))[0]?.lastError).toEqual(expect.any(String));
  });

  it("sends webhook.test on demand and refuses to retry a delivery that is still on its way", async () => {
    const endpointId = await createEndpoint({ tenantIds: ["nobody"] });
    const res = await admin(`/webhooks/${endpointId}/test`, { method: "POST" });
    expect(res.status).toBe(202);
    const test = await res.json<DeliveryJson>();
    expect(test).toMatchObject({ type: "webhook.test", tenantId: null, status: "pending", attempts: 0 });
    expect(test.eventId).toMatch(/^evt_test_/);
    await expect.poll(async () => (await deliveries(endpointId))[0]?.attempts).toBe(1);
    await expectScimError(await admin(`/webhooks/${endpointId}/deliveries/${test.id}/retry`, { method: "POST" }), 409);
    await expectScimError(await admin(`/webhooks/${endpointId}/deliveries/999999/retry`, { method: "POST" }), 404);
    await expectScimError(await admin(`/webhooks/${endpointId}/deliveries/abc/retry`, { method: "POST" }), 404);
    await expectScimError(await admin(`/webhooks/${crypto.randomUUID()}/deliveries`), 404);
  });

  it("tells a deactivation and a reactivation from an edit", async () => {
    const tenant = await createTenant();
    const endpointId = await createEndpoint({ tenantIds: [tenant.id], events: ["user.updated", "user.deactivated", "user.reactivated"] });
    const created = await worker.fetch(createUser(tenant, "toggle@example.com"), env, createExecutionContext());
    const { id } = await created.json<{ id: string }>();
    const patch = (value: Record<string, unknown>) =>
      new Request(`${tenant.baseUrl}/Users/${id}`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${tenant.token}`, "Content-Type": "application/scim+json" },
        body: JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: "replace", value }] }),
      });
    for (const value of [{ active: false }, { displayName: "Off" }, { active: true }, { active: true, displayName: "On" }]) {
      const ctx = createExecutionContext();
      expect((await worker.fetch(patch(value), env, ctx)).status).toBe(200);
      await waitOnExecutionContext(ctx);
    }
    await expect.poll(async () => (await deliveries(endpointId)).map((d) => d.type).reverse()).toEqual([
      "user.deactivated",
      "user.updated",
      "user.reactivated",
      "user.updated",
    ]);
  });

  it("emits tenant.disabled, tenant.enabled (only when enabled flips) and tenant.token_rotated", async () => {
    const tenant = await createTenant();
    const endpointId = await createEndpoint({ tenantIds: [tenant.id] });
    for (const enabled of [false, false, true]) {
      expect((await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { enabled } })).status).toBe(200);
    }
    expect((await admin(`/tenants/${tenant.id}`, { method: "PATCH", json: { defaultRole: "viewer" } })).status).toBe(200);
    expect((await admin(`/tenants/${tenant.id}/token`, { method: "POST" })).status).toBe(200);
    await expect.poll(async () => (await deliveries(endpointId)).map((d) => d.type).reverse()).toEqual(["tenant.disabled", "tenant.enabled", "tenant.token_rotated"]);
    const feed = await (await admin(`/tenants/${tenant.id}/events`)).json<{ events: { type: string; resourceType: string }[] }>();
    expect(feed.events.map((e) => [e.type, e.resourceType])).toEqual([
      ["tenant.disabled", "Tenant"],
      ["tenant.enabled", "Tenant"],
      ["tenant.token_rotated", "Tenant"],
    ]);
  });

  it("the sweep deletes deliveries older than EVENT_RETENTION_DAYS and keeps the rest", async () => {
    const endpointId = await createEndpoint({ tenantIds: ["nobody"] });
    const insert = (eventId: string, createdAt: string) =>
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, status, attempts, created_at, updated_at) VALUES (?, ?, 'user.created', 'delivered', 1, ?, ?)",
      )
        .bind(endpointId, eventId, createdAt, createdAt)
        .run();
    await insert("evt_old", new Date(Date.now() - 31 * 86_400_000).toISOString());
    await insert("evt_recent", new Date(Date.now() - 29 * 86_400_000).toISOString());
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env);
    expect((await deliveries(endpointId)).map((d) => d.eventId)).toEqual(["evt_recent"]);
  });

  it("disables an endpoint whose every attempt failed for 3 days, says why, and resumes when enabled again", async () => {
    const endpointId = await createEndpoint({ tenantIds: ["nobody"] });
    const read = async () => (await admin(`/webhooks/${endpointId}`)).json<{ enabled: boolean; disabledReason: string | null; failingSince: string | null }>();
    expect(await read()).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    expect((await admin(`/webhooks/${endpointId}/test`, { method: "POST" })).status).toBe(202);
    await expect.poll(async () => (await read()).failingSince).toEqual(expect.any(String));
    const failingSince = Date.parse((await read()).failingSince ?? "");

    await worker.scheduled(createScheduledController({ scheduledTime: failingSince + 2 * 86_400_000, cron: "* * * * *" }), env);
    expect((await read()).enabled).toBe(true);
    await worker.scheduled(createScheduledController({ scheduledTime: failingSince + 3 * 86_400_000 + 60_000, cron: "* * * * *" }), env);
    const disabled = await read();
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toMatch(/3 days/);

    expect((await admin(`/webhooks/${endpointId}`, { method: "PATCH", json: { enabled: true } })).status).toBe(200);
    expect(await read()).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
  });
});
