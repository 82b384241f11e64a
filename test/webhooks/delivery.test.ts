/**
 * Webhooks end to end (issue 11): the real Worker under wrangler's dev server (D1, KV, the
 * Durable Object and the Queue local, as `npm run dev` runs them) delivers to a real HTTP
 * receiver on 127.0.0.1, and every delivery is verified with `standardwebhooks`, the package
 * receivers use. The retry schedule is set to two immediate retries, so the whole schedule
 * (3 attempts) runs in seconds.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalWorker, startLocalWorker } from "../browser/local-worker";

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Payload {
  id: string;
  type: string;
  tenantId: string | null;
  occurredAt: string;
  seq: number | null;
  data: Record<string, unknown> | null;
}

interface Endpoint {
  id: string;
  secret: string;
}

interface Delivery {
  id: number;
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
}

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** What each receiver path answers: a queue of statuses, then 200 (or `fallback`). */
const answers = new Map<string, { queue: number[]; fallback: number }>();
const received: Received[] = [];

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
}

let server: Server | undefined;
let receiverOrigin = "";
let worker: LocalWorker | undefined;

function local(): LocalWorker {
  if (!worker) throw new Error("worker not started");
  return worker;
}

async function adminCall<T>(path: string, init: { method?: string; json?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${local().url}/admin${path}`, {
    method: init.method ?? "GET",
    headers: { Authorization: `Bearer ${local().adminToken}`, "Content-Type": "application/json" },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function scimCall(tenant: { baseUrl: string; token: string }, path: string, method: string, json?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${tenant.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${tenant.token}`, "Content-Type": "application/scim+json" },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  const text = await res.text();
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function newTenant(): Promise<{ id: string; baseUrl: string; token: string }> {
  const { status, body } = await adminCall<{ tenant: { id: string }; scim: { baseUrl: string; token: string } }>("/tenants", {
    method: "POST",
    json: { name: `Hooks ${crypto.randomUUID().slice(0, 8)}`, provider: "generic" },
  });
  expect(status).toBe(201);
  return { id: body.tenant.id, ...body.scim };
}

async function newEndpoint(path: string, settings: Record<string, unknown>): Promise<Endpoint> {
  const { status, body } = await adminCall<Endpoint>("/webhooks", { method: "POST", json: { url: `${receiverOrigin}${path}`, ...settings } });
  expect(status).toBe(201);
  return body;
}

const at = (path: string) => received.filter((r) => r.path === path);

/** Verifies with standardwebhooks (throws if the signature does not hold) and returns the event. */
function verified(secret: string, r: Received): Payload {
  return new Webhook(secret).verify(r.body, r.headers) as Payload;
}

async function deliveriesOf(endpoint: Endpoint): Promise<Delivery[]> {
  return (await adminCall<{ deliveries: Delivery[] }>(`/webhooks/${endpoint.id}/deliveries`)).body.deliveries;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, headers: flatHeaders(req.headers), body: Buffer.concat(chunks).toString("utf8") });
      const answer = answers.get(path);
      res.statusCode = answer?.queue.shift() ?? answer?.fallback ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  receiverOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  worker = await startLocalWorker({ vars: { WEBHOOK_RETRY_SCHEDULE: "0,0" } });
});

afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

describe("webhooks to a local receiver", () => {
  it("delivers every user and group event type, signed, in seq order within the tenant", async () => {
    const tenant = await newTenant();
    const endpoint = await newEndpoint("/all", { tenantIds: [tenant.id] });
    const user = await scimCall(tenant, "/Users", "POST", { schemas: [USER], userName: "ada@example.com" });
    await scimCall(tenant, `/Users/${String(user.id)}`, "PATCH", { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "Ada" }] });
    const group = await scimCall(tenant, "/Groups", "POST", { schemas: [GROUP], displayName: "Eng" });
    await scimCall(tenant, `/Groups/${String(group.id)}`, "PATCH", { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: user.id }] }] });
    await scimCall(tenant, `/Groups/${String(group.id)}`, "PATCH", { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "displayName", value: "Engineering" }] });
    await scimCall(tenant, `/Groups/${String(group.id)}`, "DELETE");
    await scimCall(tenant, `/Users/${String(user.id)}`, "DELETE");

    const expected = ["user.created", "user.updated", "group.created", "group.members_changed", "group.updated", "group.deleted", "user.deleted"];
    await expect.poll(() => at("/all").length).toBe(expected.length);
    const events = at("/all").map((r) => {
      expect(r.headers["content-type"]).toMatch(/^application\/json/);
      const event = verified(endpoint.secret, r);
      expect(r.headers["webhook-id"]).toBe(event.id);
      return event;
    });
    events.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    expect(events.map((e) => e.type)).toEqual(expected);
    expect(events.every((e) => e.tenantId === tenant.id && e.id === `evt_${e.seq}`)).toBe(true);
    expect(events[0]?.data).toMatchObject({ resourceType: "User", id: user.id, userName: "ada@example.com", active: true });
    expect(events[3]?.data).toMatchObject({ resourceType: "Group", id: group.id, added: [user.id] });
    await expect.poll(async () => (await deliveriesOf(endpoint)).map((d) => d.status)).toEqual(expected.map(() => "delivered"));
  });

  it("retries a receiver answering 500 twice with the same webhook-id, and the delivery ends delivered", async () => {
    const tenant = await newTenant();
    const endpoint = await newEndpoint("/flaky", { tenantIds: [tenant.id] });
    answers.set("/flaky", { queue: [500, 500], fallback: 200 });
    await scimCall(tenant, "/Users", "POST", { schemas: [USER], userName: "grace@example.com" });
    await expect.poll(() => at("/flaky").length).toBe(3);
    const ids = at("/flaky").map((r) => verified(endpoint.secret, r).id);
    expect(new Set(ids).size).toBe(1);
    expect(at("/flaky").map((r) => r.headers["webhook-id"])).toEqual(ids);
    await expect.poll(async () => (await deliveriesOf(endpoint)).map((d) => [d.status, d.attempts, d.lastStatusCode])).toEqual([["delivered", 3, 200]]);
    // The success ended the endpoint's failure streak (3 days of it would disable the endpoint).
    expect((await adminCall<{ failingSince: string | null }>(`/webhooks/${endpoint.id}`)).body.failingSince).toBeNull();
  });

  it("fails a delivery after the configured attempts, and an operator retry delivers it", async () => {
    const tenant = await newTenant();
    const endpoint = await newEndpoint("/down", { tenantIds: [tenant.id] });
    answers.set("/down", { queue: [], fallback: 503 });
    await scimCall(tenant, "/Users", "POST", { schemas: [USER], userName: "alan@example.com" });
    await expect.poll(async () => (await deliveriesOf(endpoint)).map((d) => [d.status, d.attempts, d.lastStatusCode])).toEqual([["failed", 3, 503]]);
    expect(at("/down")).toHaveLength(3);

    answers.set("/down", { queue: [], fallback: 204 });
    const [failed] = await deliveriesOf(endpoint);
    const retry = await adminCall<Delivery>(`/webhooks/${endpoint.id}/deliveries/${failed?.id}/retry`, { method: "POST" });
    expect(retry.status).toBe(202);
    await expect.poll(async () => (await deliveriesOf(endpoint)).map((d) => [d.status, d.attempts, d.lastStatusCode])).toEqual([["delivered", 4, 204]]);
    expect(new Set(at("/down").map((r) => verified(endpoint.secret, r).id)).size).toBe(1);
  });

  it("signs with both the new and the previous secret after a rotation", async () => {
    const endpoint = await newEndpoint("/rotated", { tenantIds: ["none"] });
    const rotated = await adminCall<Endpoint>(`/webhooks/${endpoint.id}/rotate-secret`, { method: "POST" });
    expect(rotated.status).toBe(200);
    expect((await adminCall(`/webhooks/${endpoint.id}/test`, { method: "POST" })).status).toBe(202);
    await expect.poll(() => at("/rotated").length).toBe(1);
    const [delivery] = at("/rotated");
    if (!delivery) throw new Error("no delivery");
    expect(delivery.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(verified(rotated.body.secret, delivery)).toMatchObject({ type: "webhook.test", tenantId: null, data: { webhookId: endpoint.id } });
    expect(verified(endpoint.secret, delivery).type).toBe("webhook.test");
  });

  it("sends a disabled endpoint nothing, and an events filter holds", async () => {
    const tenant = await newTenant();
    const enabled = await newEndpoint("/enabled", { tenantIds: [tenant.id] });
    const disabled = await newEndpoint("/disabled", { tenantIds: [tenant.id] });
    const deletesOnly = await newEndpoint("/deletes", { tenantIds: [tenant.id], events: ["user.deleted"] });
    expect((await adminCall(`/webhooks/${disabled.id}`, { method: "PATCH", json: { enabled: false } })).status).toBe(200);
    await scimCall(tenant, "/Users", "POST", { schemas: [USER], userName: "barbara@example.com" });
    await expect.poll(() => at("/enabled").length).toBe(1);
    expect(verified(enabled.secret, at("/enabled")[0] as Received).type).toBe("user.created");
    // Fanned out in the same claim as /enabled's: no delivery exists for the others.
    expect(at("/disabled")).toEqual([]);
    expect(await deliveriesOf(disabled)).toEqual([]);
    expect(at("/deletes")).toEqual([]);
    expect(await deliveriesOf(deletesOnly)).toEqual([]);
  });
});
