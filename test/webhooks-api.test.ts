/** The operator's webhook endpoints: create, read, change, rotate, delete (issue 11 item 1). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, call } from "./support/http";

interface EndpointJson {
  id: string;
  url: string;
  events: string[] | null;
  tenantIds: string[] | null;
  description: string | null;
  enabled: boolean;
  secret?: string;
  previousSecretExpiresAt?: string;
  createdAt: string;
  updatedAt: string;
}

async function createEndpoint(body: Record<string, unknown>): Promise<EndpointJson> {
  const res = await admin("/webhooks", { method: "POST", json: body });
  const json = await res.json<EndpointJson>();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

describe("webhook endpoints", () => {
  it("creates an endpoint with a whsec_ secret shown once, stored as handed out", async () => {
    const res = await admin("/webhooks", { method: "POST", json: { url: "https://hooks.example.com/scim", description: "app" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const created = await res.json<EndpointJson>();
    expect(created).toMatchObject({ url: "https://hooks.example.com/scim", events: null, tenantIds: null, description: "app", enabled: true });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(atob(created.secret!.slice("whsec_".length)).length).toBeGreaterThanOrEqual(24);
    const stored = await env.DB.prepare("SELECT secret FROM webhook_endpoints WHERE id = ?").bind(created.id).first<{ secret: string }>();
    expect(stored?.secret).toBe(created.secret);

    const read = await admin(`/webhooks/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get("Cache-Control")).toBe("no-store");
    const readJson = await read.json<EndpointJson>();
    expect(readJson.secret).toBeUndefined();
    expect(readJson.id).toBe(created.id);
    const list = await (await admin("/webhooks")).json<{ webhooks: EndpointJson[] }>();
    expect(list.webhooks.map((w) => w.id)).toContain(created.id);
    expect(list.webhooks.every((w) => w.secret === undefined)).toBe(true);
  });

  it("requires the admin token", async () => {
    await expectScimError(await call("/admin/webhooks", { method: "POST", body: "{}" }), 401);
    await expectScimError(await call("/admin/webhooks"), 401);
  });

  it.each([
    ["plain http to a public host", { url: "http://hooks.example.com/x" }],
    ["not a URL", { url: "hooks" }],
    ["another scheme", { url: "ftp://hooks.example.com/x" }],
    ["credentials in the URL", { url: "https://user:pw@hooks.example.com/x" }],
    ["an unknown event type", { url: "https://hooks.example.com/x", events: ["user.exploded"] }],
    ["an empty event list", { url: "https://hooks.example.com/x", events: [] }],
    ["an unknown field", { url: "https://hooks.example.com/x", secret: "whsec_mine" }],
  ])("refuses %s with 400 invalidValue and creates nothing", async (_name, body) => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM webhook_endpoints").first<{ n: number }>();
    await expectScimError(await admin("/webhooks", { method: "POST", json: body }), 400, "invalidValue");
    const after = await env.DB.prepare("SELECT count(*) AS n FROM webhook_endpoints").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });

  it.each(["http://127.0.0.1:9999/hook", "http://localhost:8080/hook", "http://[::1]:3000/hook"])("allows plain http to loopback %s", async (url) => {
    expect((await createEndpoint({ url })).url).toBe(url);
  });

  it("patches url, filters, description and enabled; a bad value changes nothing", async () => {
    const created = await createEndpoint({ url: "https://a.example.com/h", events: ["user.created"] });
    const res = await admin(`/webhooks/${created.id}`, {
      method: "PATCH",
      json: { url: "https://b.example.com/h", events: null, tenantIds: ["t1"], description: "d", enabled: false },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ url: "https://b.example.com/h", events: null, tenantIds: ["t1"], description: "d", enabled: false });
    await expectScimError(await admin(`/webhooks/${created.id}`, { method: "PATCH", json: { url: "http://b.example.com/h" } }), 400, "invalidValue");
    expect((await (await admin(`/webhooks/${created.id}`)).json<EndpointJson>()).url).toBe("https://b.example.com/h");
  });

  it("rotates the secret and keeps the previous one for 24 hours", async () => {
    const created = await createEndpoint({ url: "https://a.example.com/h" });
    const res = await admin(`/webhooks/${created.id}/rotate-secret`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const rotated = await res.json<EndpointJson>();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const hours = (Date.parse(rotated.previousSecretExpiresAt!) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    const stored = await env.DB.prepare("SELECT previous_secret FROM webhook_endpoints WHERE id = ?").bind(created.id).first<{ previous_secret: string }>();
    expect(stored?.previous_secret).toBe(created.secret);
  });

  it("deletes an endpoint; an unknown id is a 404 everywhere", async () => {
    const created = await createEndpoint({ url: "https://a.example.com/h" });
    expect((await admin(`/webhooks/${created.id}`, { method: "DELETE" })).status).toBe(204);
    await expectScimError(await admin(`/webhooks/${created.id}`), 404);
    await expectScimError(await admin(`/webhooks/${created.id}`, { method: "PATCH", json: { enabled: false } }), 404);
    await expectScimError(await admin(`/webhooks/${created.id}`, { method: "DELETE" }), 404);
    await expectScimError(await admin(`/webhooks/${created.id}/rotate-secret`, { method: "POST" }), 404);
  });
});
