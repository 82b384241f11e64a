/**
 * The run's closing table: each scenario's req/s, as a fraction of the ceiling (`spc`, the
 * mean of its two runs) and of its bare-runtime reference (bench/reference.mjs, the mean of
 * its two runs), then latency, CPU and status. Reference rows come first.
 *
 * Two fractions of the reference: `x ref` is throughput (req/s over the reference's req/s),
 * the issue's measure; `x ref cpu` is server CPU per request (the reference's over the
 * scenario's), which other jobs on a shared machine skew much less.
 */

/** Server CPU ms per request (workerd processes), or null when unknown. */
export function cpuMsPerRequest(row) {
  if (!row.cpu || !(row.rps > 0)) return null;
  return Math.round(((row.cpu.serverPct / 100) * 1000 * 100) / row.rps) / 100;
}

const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Each reference's req/s and CPU ms per request, the mean of its clean runs, by name (`ref-read`, …). */
export function referenceRates(referenceRows) {
  const byName = new Map();
  for (const row of referenceRows) {
    if (row.status !== "ok" || !(row.rps > 0)) continue;
    const name = row.scenario.replace(/-end$/, "");
    byName.set(name, [...(byName.get(name) ?? []), row]);
  }
  return Object.fromEntries(
    [...byName].map(([name, rows]) => {
      const cpu = rows.map(cpuMsPerRequest).filter((v) => v !== null);
      return [name, { rps: Math.round(mean(rows.map((r) => r.rps)) * 10) / 10, cpuMsPerRequest: cpu.length ? Math.round(mean(cpu) * 100) / 100 : null }];
    }),
  );
}

/** A scenario against its reference: { rps, cpu } fractions (null when either side is missing). */
export function fractionOfReference(row, rates) {
  const ref = row.reference ? rates[row.reference] : undefined;
  if (!ref || row.status === "unavailable" || row.status === "skipped") return { rps: null, cpu: null };
  const own = cpuMsPerRequest(row);
  return {
    rps: Math.round((row.rps / ref.rps) * 1000) / 1000,
    cpu: own && ref.cpuMsPerRequest ? Math.round((ref.cpuMsPerRequest / own) * 1000) / 1000 : null,
  };
}

export function table(rows, ceilingRps, rates) {
  const header = ["scenario", "req/s", "x ceiling", "reference", "x ref", "cpu ms/req", "x ref cpu", "p50 ms", "p99 ms", "errors", "server cpu %", "other cpu %", "status"];
  const fixed = (v) => (v === null ? "-" : v.toFixed(3));
  const lines = rows.map((r) => {
    const ofRef = fractionOfReference(r, rates);
    const cpuMs = cpuMsPerRequest(r);
    return [
      r.scenario,
      r.status === "skipped" ? "-" : String(r.rps),
      r.type === "reference" ? "-" : r.status === "unavailable" ? "unavailable" : ceilingRps ? (r.rps / ceilingRps).toFixed(3) : "-",
      r.reference ?? "-",
      fixed(ofRef.rps),
      cpuMs === null ? "-" : String(cpuMs),
      fixed(ofRef.cpu),
      r.latencyMs ? String(r.latencyMs.p50) : "-",
      r.latencyMs ? String(r.latencyMs.p99) : "-",
      String(r.errors ?? 0),
      r.cpu ? String(r.cpu.serverPct) : "-",
      r.cpu ? String(r.cpu.otherPct) : "-",
      r.status + (r.stoppedBy && r.stoppedBy !== "time" ? ` (${r.stoppedBy})` : ""),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const last = header.length - 1;
  const left = new Set([0, 3, last]);
  const fmt = (cells) => "| " + cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  return [fmt(header), "|" + widths.map((w, i) => (left.has(i) ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|", ...lines.map(fmt)].join("\n");
}

/** One line per scenario with a settle: what was left behind, what finishing it cost, and the whole scenario's server CPU per request. */
export function settleLines(rows) {
  return rows
    .filter((r) => r.settle)
    .map((r) => {
      const others = rows.filter((o) => !o.settle && o.endpoint === r.endpoint && o.cpuMsPerIssuedRequest).map((o) => `${o.scenario}: ${o.cpuMsPerIssuedRequest}`);
      const { writes } = r.settle;
      const delivered = r.settle.delivered === writes ? `all ${writes} delivered` : `${r.settle.delivered} of ${writes} delivered`;
      return (
        `${r.scenario}: ${r.settle.behindAtWindowEnd} of ${writes} writes not yet delivered when the window closed, ${delivered} ${r.settle.ms} ms later ` +
        `using ${r.settle.serverCpuMs} ms of server CPU; server cpu ms per request sent, warm-up to settle: ${r.cpuMsPerIssuedRequest ?? "-"}${others.length ? ` (${others.join(", ")})` : ""}`
      );
    });
}
