/**
 * The bare-runtime reference (bench/reference/worker.mjs): a tiny Worker with the same kinds of
 * bindings as the SCIM Worker (KV, D1, the rate-limit binding, a Durable Object) doing only
 * the I/O each kind of SCIM request cannot avoid. It runs in the same bench run, before the
 * SCIM Worker starts and again after it stopped (so the two never share the CPU and the
 * server CPU figures stay each one's own; like the ceiling, the mean of both runs evens out
 * drift), with the same client, connections, warm-up and duration. Each SCIM scenario is then
 * reported as a fraction of its matching reference (`referenceOf`).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, postJson } from "./http.mjs";
import { closedLoop, rng, summarize } from "./load.mjs";
import { cpuBetween, cpuSample, removePersistDir, ROOT, startWorker, workerdPids } from "./start-worker.mjs";
import { startWebhookReceiver } from "./webhook-receiver.mjs";

const CONFIG = join(ROOT, "bench", "reference", "wrangler.toml");
const ROWS = 1000; // what POST /setup creates (SETUP_ROWS in worker.mjs)

/** Bodies of the size of an IdP's small write (a PATCH adding one member, a short user). */
const writeBody = (n) => ({ userName: `ref-${n}@bench.example`, displayName: `Reference ${n}`, active: true, emails: [{ value: `ref-${n}@bench.example` }] });

export const REFERENCE_SCENARIOS = [
  {
    name: "ref-read",
    endpoint: "(a) KV token read + rate limit + one D1 read",
    next: (pick) => ({ method: "GET", path: `/read/${pick(ROWS)}` }),
    expect: 200,
  },
  {
    name: "ref-write",
    endpoint: "(b) KV token read + rate limit + one D1 batch (check + insert)",
    next: (_pick, n) => ({ method: "POST", path: "/write", body: writeBody(n) }),
    expect: 201,
  },
  {
    name: "ref-write-post",
    endpoint: "(d) (b), then one signed POST of the write to a local receiver after the response",
    next: (_pick, n, receiverUrl) => ({ method: "POST", path: `/write-post?receiver=${encodeURIComponent(receiverUrl)}`, body: writeBody(n) }),
    expect: 201,
  },
  {
    name: "ref-do-write",
    endpoint: "(c) KV token read + rate limit + a Durable Object call that writes D1 (check + insert)",
    next: (_pick, n) => ({ method: "POST", path: "/do-write", body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Add", path: "members", value: [{ value: `${n}` }] }] } }),
    expect: 204,
  },
];

/**
 * The reference a SCIM scenario is compared with: reads with (a); POST, PUT and the user PATCH
 * (a read and a write: compared with the write alone) with (b); group writes, which go through
 * the tenant's Durable Object, with (c); a scenario may name its own (`create-user+webhook`: (d)).
 */
export function referenceOf(scenario) {
  if (scenario.reference) return scenario.reference;
  if (scenario.endpoint.startsWith("GET ")) return "ref-read";
  if (scenario.endpoint.includes("/Groups")) return "ref-do-write";
  return "ref-write";
}

/**
 * Starts the reference on a throwaway directory, measures its three scenarios, stops it.
 * Returns one row per scenario (`type: "reference"`), shaped like the SCIM rows; `when`:
 * "first" (before the SCIM Worker starts) or "last" (after it stopped; names end in -end).
 */
export async function measureReference({ when, connections, warmupS, durationS, maxRequests, log, aborted, onStop }) {
  const persistDir = await mkdtemp(join(tmpdir(), "scim-edge-bench-ref-"));
  const rows = [];
  try {
    const worker = await startWorker({ config: CONFIG, persistDir, adminToken: randomBytes(32).toString("base64url"), onStop });
    try {
      const tenantId = randomUUID();
      const token = `scim_${randomBytes(32).toString("base64url")}`;
      const setup = await postJson(worker.url, "/ref/setup", token, { tenantId, token });
      if (setup.status !== 200) throw new Error(`reference setup answered ${setup.status}: ${setup.text.slice(0, 300)}`);
      const random = rng(0x7ef);
      const pick = (n) => Math.floor(random() * n);
      const client = new Client(`${worker.url}/ref`, token, connections);
      const receiver = await startWebhookReceiver();
      try {
        // The same server warm-up as the SCIM Worker gets before its first scenario.
        await closedLoop({
          client,
          connections,
          warmupMs: 0,
          durationMs: Math.max(1000, warmupS * 2000),
          maxRequests: 100_000,
          next: () => ({ method: "GET", path: `/read/${pick(ROWS)}` }),
          aborted,
        });
        for (const scenario of REFERENCE_SCENARIOS) {
          if (aborted()) break;
          let n = 0;
          const first = scenario.next(pick, n++, receiver.url);
          const probe = await client.send(first.method, first.path, { body: first.body });
          const cpuBefore = await cpuSample(await workerdPids());
          const result = await closedLoop({
            client,
            connections,
            warmupMs: warmupS * 1000,
            durationMs: durationS * 1000,
            maxRequests,
            next: () => scenario.next(pick, n++, receiver.url),
            aborted,
          });
          const cpu = cpuBetween(cpuBefore, await cpuSample(await workerdPids()));
          const stats = summarize(result.latencies, result.measuredMs);
          const errors = Object.entries(result.statuses).reduce((sum, [code, k]) => sum + (Number(code) === scenario.expect ? 0 : k), 0);
          const status = probe.status !== scenario.expect ? "wrong-answer" : errors > 0 ? "errors" : "ok";
          const row = {
            type: "reference",
            scenario: when === "last" ? `${scenario.name}-end` : scenario.name,
            endpoint: scenario.endpoint,
            connections,
            status,
            ...(probe.status !== scenario.expect ? { note: `probe answered ${probe.status}, expected ${scenario.expect}` } : {}),
            rps: stats.rps,
            requests: stats.requests,
            latencyMs: stats.latencyMs,
            statuses: result.statuses,
            errors,
            stoppedBy: result.stoppedBy,
            cpu,
          };
          log(`${row.scenario}: ${stats.rps} req/s (${status})`);
          rows.push(row);
        }
      } finally {
        client.close();
        await receiver.close();
      }
    } finally {
      await worker.stop();
    }
  } finally {
    await removePersistDir(persistDir);
  }
  return rows;
}
