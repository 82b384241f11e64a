/**
 * Closed-loop load: C workers, one per keep-alive connection, each sending its next request
 * when the previous one answered. A warm-up phase runs first; only requests started after it
 * are measured. Every run stops at a time limit, a request-count limit, when the scenario
 * has nothing left to send, or on abort.
 */

/**
 * @param {object} o
 * @param {import("./http.mjs").Client} o.client
 * @param {number} o.connections
 * @param {number} o.warmupMs
 * @param {number} [o.warmupMaxRequests]  warm-up ends early after this many requests
 * @param {number} o.durationMs
 * @param {number} o.maxRequests  total requests, warm-up included
 * @param {(conn: number, k: number, connections: number) => ({method: string, path: string, body?: unknown} | null)} o.next
 * @param {(spec: object, res: {status: number}) => void} [o.onResult]
 * @param {() => boolean} [o.aborted]
 */
export async function closedLoop({ client, connections, warmupMs, warmupMaxRequests = Infinity, durationMs, maxRequests, next, onResult, aborted = () => false }) {
  const start = performance.now();
  let warmEnd = start + warmupMs;
  let end = warmEnd + durationMs;
  const latencies = [];
  const statuses = {};
  const networkErrors = {};
  let issued = 0;
  let lastFinish = 0;
  let stoppedBy = "time";

  const worker = async (conn) => {
    for (let k = 0; ; k++) {
      if (aborted()) {
        stoppedBy = "abort";
        return;
      }
      if (performance.now() >= end) return;
      if (issued >= maxRequests) {
        stoppedBy = "count";
        return;
      }
      const spec = next(conn, k, connections);
      if (!spec) {
        stoppedBy = "exhausted";
        return;
      }
      issued++;
      const sentAt = performance.now();
      // A scenario with a limited supply (members to add) ends its warm-up early.
      if (sentAt < warmEnd && issued > warmupMaxRequests) {
        warmEnd = sentAt;
        end = warmEnd + durationMs;
      }
      const measured = sentAt >= warmEnd;
      const res = await client.send(spec.method, spec.path, { body: spec.body, token: spec.token, absolute: spec.absolute });
      onResult?.(spec, res);
      if (!measured) continue;
      const finishedAt = sentAt + res.ms;
      if (finishedAt > lastFinish) lastFinish = finishedAt;
      latencies.push(res.ms);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 0) networkErrors[res.error] = (networkErrors[res.error] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, conn) => worker(conn)));
  const measuredMs = latencies.length ? Math.max(0, lastFinish - warmEnd) : 0;
  return { latencies, statuses, networkErrors, issued, measuredMs, stoppedBy };
}

/** Nearest-rank percentiles (ms, 2 decimals) of all measured samples. */
export function summarize(latencies, measuredMs) {
  const n = latencies.length;
  const round = (x) => Math.round(x * 100) / 100;
  if (n === 0) return { requests: 0, rps: 0, latencyMs: null };
  const sorted = Float64Array.from(latencies).sort();
  const at = (p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    requests: n,
    rps: measuredMs > 0 ? Math.round((n / (measuredMs / 1000)) * 10) / 10 : 0,
    latencyMs: { p50: round(at(50)), p90: round(at(90)), p99: round(at(99)), max: round(sorted[n - 1]), mean: round(sum / n) },
  };
}

/** A deterministic PRNG (mulberry32) so runs pick the same users. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
