/**
 * First attempts inside the fan-out (issue 11 item 6): the consumer run that claims a tenant's
 * events attempts the new deliveries at once, with the rows it already holds, so a delivery that
 * succeeds first time costs no queue message and no D1 read of its own. What must retry gets a
 * `delivery` message delayed per the schedule; what is past the batch's budget gets one now.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { consumeWebhookBatch } from "../src/webhooks/consumer";
import { FIRST_ATTEMPTS_PER_BATCH, PAGES_PER_BATCH } from "../src/webhooks/fan-out";
import { directoryDb } from "../src/storage/shards";
import { recordAttempts } from "../src/storage/webhook-outbox";
import { countingEnv } from "./support/counting-env";
import { admin, createTenant, type TestTenant } from "./support/http";
import { USER } from "./support/urns";

// Nothing listens there: every attempt fails fast with a network error.
const UNREACHABLE = "http://127.0.0.1:9/hook";

interface SentMessage {
  body: { kind: string; deliveryId?: number };
  delaySeconds?: number;
}

/** A queue that records what is sent to it and delivers nothing (or refuses every send). */
function recordingQueue(refuse = false): { queue: Queue; sent: SentMessage[] } {
  const sent: SentMessage[] = [];
  const record = (messages: Iterable<MessageSendRequest>) => {
    if (refuse) return Promise.reject(new Error("queue unavailable"));
    for (const m of messages) sent.push({ body: m.body as SentMessage["body"], ...(m.delaySeconds !== undefined && { delaySeconds: m.delaySeconds }) });
    return Promise.resolve();
  };
  const queue = { send: (body: unknown) => record([{ body }]), sendBatch: record } as unknown as Queue;
  return { queue, sent };
}

/** `n` user creations whose after-write messages go nowhere, so only the test's own batch fans them out. */
async function writeUsers(tenant: TestTenant, n: number): Promise<void> {
  const { queue } = recordingQueue();
  for (let i = 0; i < n; i += 1) {
    const ctx = createExecutionContext();
    const request = new Request(`${tenant.baseUrl}/Users`, {
      method: "POST",
      headers: { Authorization: `Bearer ${tenant.token}`, "Content-Type": "application/scim+json" },
      body: JSON.stringify({ schemas: [USER], userName: `first-${i}@example.com` }),
    });
    expect((await worker.fetch(request, { ...env, WEBHOOK_QUEUE: queue }, ctx)).status).toBe(201);
    await waitOnExecutionContext(ctx);
  }
}

async function endpointFor(...tenants: TestTenant[]): Promise<string> {
  const res = await admin("/webhooks", { method: "POST", json: { url: UNREACHABLE, tenantIds: tenants.map((t) => t.id) } });
  expect(res.status).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

async function deliveryStates(endpointId: string): Promise<[string, number][]> {
  const { results } = await env.DB.prepare("SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id").bind(endpointId).all<{ status: string; attempts: number }>();
  return results.map((r) => [r.status, r.attempts]);
}

function tenantBatch(...tenants: TestTenant[]): { batch: MessageBatch; acked: string[] } {
  const acked: string[] = [];
  const messages = tenants.map((tenant) => ({
    body: { kind: "tenant", tenantId: tenant.id },
    attempts: 1,
    ack: () => acked.push("ack"),
    retry: (options?: { delaySeconds?: number }) => acked.push(`retry ${options?.delaySeconds ?? "-"}`),
  }));
  return { batch: { queue: "scim-edge-webhooks", messages } as unknown as MessageBatch, acked };
}

describe("webhook first attempts in the fan-out", () => {
  it("attempts what a tenant message claims at once: no message per delivery, one delayed message per retry, D1 work independent of the count", async () => {
    const roundTrips: number[] = [];
    for (const n of [5, 20]) {
      const tenant = await createTenant();
      const endpointId = await endpointFor(tenant);
      await writeUsers(tenant, n);
      const { queue, sent } = recordingQueue();
      const counting = countingEnv({ ...env, WEBHOOK_QUEUE: queue, WEBHOOK_RETRY_SCHEDULE: "60" });
      const { batch, acked } = tenantBatch(tenant);
      await consumeWebhookBatch(batch, counting.env);
      expect(acked).toEqual(["ack"]);
      // Every first attempt failed (unreachable) and was recorded; each retry is one message, about a minute out (±10 %).
      expect(await deliveryStates(endpointId)).toEqual(Array(n).fill(["retrying", 1]));
      expect(sent).toHaveLength(n);
      for (const m of sent) {
        expect(m.body.kind).toBe("delivery");
        expect(m.delaySeconds).toBeGreaterThanOrEqual(54);
        expect(m.delaySeconds).toBeLessThanOrEqual(66);
      }
      roundTrips.push(counting.counts.d1RoundTrips);
    }
    // The tenant's events, the endpoints, the claim (insert, then mark) and one batch recording every attempt: 5, whatever the count.
    expect(roundTrips).toEqual([5, 5]);
  });

  it(`attempts at most ${FIRST_ATTEMPTS_PER_BATCH} per batch; the rest get a delivery message each`, async () => {
    const tenant = await createTenant();
    const endpointId = await endpointFor(tenant);
    const extra = 30;
    await writeUsers(tenant, FIRST_ATTEMPTS_PER_BATCH + extra);
    const { queue, sent } = recordingQueue();
    await consumeWebhookBatch(tenantBatch(tenant).batch, { ...env, WEBHOOK_QUEUE: queue, WEBHOOK_RETRY_SCHEDULE: "60" });
    const states = await deliveryStates(endpointId);
    expect(states.filter(([s]) => s === "retrying")).toHaveLength(FIRST_ATTEMPTS_PER_BATCH);
    expect(states.filter(([s, a]) => s === "pending" && a === 0)).toHaveLength(extra);
    // The pending ones go now (no delay); the attempted ones retry in about a minute.
    expect(sent.filter((m) => m.delaySeconds === undefined)).toHaveLength(extra);
    expect(sent.filter((m) => m.delaySeconds !== undefined)).toHaveLength(FIRST_ATTEMPTS_PER_BATCH);
  });

  it("a retry whose message could not be sent goes back to pending, and the sweep sends it", async () => {
    const tenant = await createTenant();
    const endpointId = await endpointFor(tenant);
    await writeUsers(tenant, 3);
    const refusing = recordingQueue(true);
    const { batch, acked } = tenantBatch(tenant);
    await consumeWebhookBatch(batch, { ...env, WEBHOOK_QUEUE: refusing.queue, WEBHOOK_RETRY_SCHEDULE: "60" });
    expect(acked).toEqual(["ack"]);
    // The attempt is recorded; the delivery waits for the sweep rather than being left retrying with no message.
    expect(await deliveryStates(endpointId)).toEqual(Array(3).fill(["pending", 1]));
    const { results } = await env.DB.prepare("SELECT id FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id").bind(endpointId).all<{ id: number }>();
    const swept = recordingQueue();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 120_000, cron: "* * * * *" }), { ...env, WEBHOOK_QUEUE: swept.queue });
    const resent = swept.sent.filter((m) => m.body.kind === "delivery").map((m) => m.body.deliveryId);
    expect(resent).toEqual(expect.arrayContaining(results.map((r) => r.id)));
  });

  it("an outcome is recorded only over the row its attempt read: a second message for a delivery cannot overwrite a newer outcome", async () => {
    const tenant = await createTenant();
    const endpointId = await endpointFor(tenant);
    await writeUsers(tenant, 1);
    const { queue } = recordingQueue();
    await consumeWebhookBatch(tenantBatch(tenant).batch, { ...env, WEBHOOK_QUEUE: queue, WEBHOOK_RETRY_SCHEDULE: "60" });
    const row = await env.DB.prepare("SELECT id, attempts, status FROM webhook_deliveries WHERE endpoint_id = ?").bind(endpointId).first<{ id: number; attempts: number; status: string }>();
    expect(row).toMatchObject({ attempts: 1, status: "retrying" });
    const at = new Date().toISOString();
    // What a stale duplicate would write: its attempt read the row before the first attempt (attempts 0).
    const stale = { status: "delivered" as const, attempts: 1, lastStatusCode: 204, lastError: null, lastAttemptAt: at, nextAttemptAt: null, updatedAt: at };
    const recorded = await recordAttempts(directoryDb(env), { failed: [], attempts: [{ delivery: { id: row?.id ?? 0, endpointId, attempts: 0 }, outcome: stale }], now: at });
    expect([...recorded]).toEqual([]);
    expect(await deliveryStates(endpointId)).toEqual([["retrying", 1]]);
    // The same outcome over the row as it is now is recorded.
    const current = await recordAttempts(directoryDb(env), { failed: [], attempts: [{ delivery: { id: row?.id ?? 0, endpointId, attempts: 1 }, outcome: { ...stale, attempts: 2 } }], now: at });
    expect([...current]).toEqual([row?.id]);
    expect(await deliveryStates(endpointId)).toEqual([["delivered", 2]]);
  });

  it(`fans out at most ${PAGES_PER_BATCH} pages per batch (D1's 1,000 queries per invocation); the other tenants' messages come back in a second`, async () => {
    const tenants: TestTenant[] = [];
    for (let i = 0; i < PAGES_PER_BATCH + 5; i += 1) tenants.push(await createTenant());
    await endpointFor(...tenants);
    for (const tenant of tenants) await writeUsers(tenant, 1);
    const { queue } = recordingQueue();
    const counting = countingEnv({ ...env, WEBHOOK_QUEUE: queue, WEBHOOK_RETRY_SCHEDULE: "60" });
    const { batch, acked } = tenantBatch(...tenants);
    await consumeWebhookBatch(batch, counting.env);
    expect(acked.filter((a) => a === "ack")).toHaveLength(PAGES_PER_BATCH);
    expect(acked.filter((a) => a !== "ack")).toEqual(Array(5).fill("retry 1"));
    expect(counting.counts.d1RoundTrips).toBeLessThan(1_000);
    expect(counting.violations).toEqual([]);
  });
});
