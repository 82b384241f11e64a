/**
 * The run's closing table: each scenario's req/s, as a fraction of the ceiling (`spc`, the
 * mean of its two runs) and of its bare-runtime reference (bench/reference.mjs), then latency,
 * CPU and status. Reference rows come first.
 */

/** req/s of each reference scenario that ran cleanly, by name. */
export function referenceRates(referenceRows) {
  return Object.fromEntries(referenceRows.filter((r) => r.status === "ok" && r.rps > 0).map((r) => [r.scenario, r.rps]));
}

/** A scenario's req/s over its reference's, or null when either is missing. */
export function fractionOfReference(row, rates) {
  const rps = row.reference ? rates[row.reference] : undefined;
  if (!rps || row.status === "unavailable" || row.status === "skipped") return null;
  return Math.round((row.rps / rps) * 1000) / 1000;
}

export function table(rows, ceilingRps, rates) {
  const header = ["scenario", "req/s", "x ceiling", "reference", "x ref", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "server cpu %", "other cpu %", "status"];
  const lines = rows.map((r) => {
    const isReference = r.type === "reference";
    const ofRef = fractionOfReference(r, rates);
    return [
      r.scenario,
      r.status === "skipped" ? "-" : String(r.rps),
      isReference ? "-" : r.status === "unavailable" ? "unavailable" : ceilingRps ? (r.rps / ceilingRps).toFixed(3) : "-",
      r.reference ?? "-",
      ofRef === null ? "-" : ofRef.toFixed(3),
      r.latencyMs ? String(r.latencyMs.p50) : "-",
      r.latencyMs ? String(r.latencyMs.p90) : "-",
      r.latencyMs ? String(r.latencyMs.p99) : "-",
      r.latencyMs ? String(r.latencyMs.max) : "-",
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
