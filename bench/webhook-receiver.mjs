// A webhook receiver on 127.0.0.1 for the `create-user+webhook` scenario: answers 204 to every
// POST and counts them (and their distinct webhook-ids: duplicates are allowed, at least once,
// but should be rare), so the run measures SCIM writes while their events are delivered.
import { createServer } from "node:http";
import { assertLoopback } from "./start-worker.mjs";

export async function startWebhookReceiver() {
  let received = 0;
  const ids = new Set();
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "POST") {
        received++;
        ids.add(req.headers["webhook-id"]);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/bench-webhook`,
    received: () => received,
    distinct: () => ids.size,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the Worker keeps its connections alive
      }),
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

/**
 * Runs the Worker's every-minute webhook sweep now, through miniflare's local trigger
 * (`wrangler dev` runs no cron by itself). In production it runs every minute; here it claims
 * the earlier scenarios' events, which no endpoint wanted and so were sent no message, so the
 * webhook scenario pays for its own events only.
 */
export async function runWebhookSweep(admin) {
  const res = await fetch(assertLoopback(new URL("/cdn-cgi/local/scheduled?cron=*+*+*+*+*", admin.origin).href), { signal: AbortSignal.timeout(30_000) });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`the local scheduled trigger answered ${res.status}`);
}
