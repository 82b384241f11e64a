// A webhook receiver on 127.0.0.1 for the `create-user+webhook` scenario: answers 204 to every
// POST and counts them, so the run measures SCIM writes while their events are delivered.
import { createServer } from "node:http";
import { assertLoopback } from "./start-worker.mjs";

export async function startWebhookReceiver() {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "POST") received++;
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/bench-webhook`,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Registers an endpoint for one tenant through the operator API; returns a function that deletes it. */
export async function registerWebhook(admin, tenantId, url) {
  const headers = { Authorization: `Bearer ${admin.token}`, "Content-Type": "application/json" };
  const created = await fetch(assertLoopback(new URL("/admin/webhooks", admin.origin).href), {
    method: "POST",
    headers,
    body: JSON.stringify({ url, tenantIds: [tenantId], description: "bench" }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await created.json();
  if (created.status !== 201) throw new Error(`POST /admin/webhooks: ${created.status} ${JSON.stringify(body)}`);
  return async () => {
    await fetch(assertLoopback(new URL(`/admin/webhooks/${body.id}`, admin.origin).href), { method: "DELETE", headers, signal: AbortSignal.timeout(30_000) });
  };
}
