#!/usr/bin/env node
/**
 * `npm run bench [-- flags]`: starts the Worker locally (or uses BASE_URL + ADMIN_TOKEN),
 * creates a tenant through the operator API, seeds it, runs closed-loop scenarios and
 * writes one JSON line per scenario to stdout and to bench/results/<run>.jsonl.
 * See bench/README.md.
 */
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { Client } from "./http.mjs";
import { HELP, parseOptions } from "./options.mjs";
import { closedLoop, summarize } from "./load.mjs";
import { measureReference, referenceOf } from "./reference.mjs";
import { fractionOfReference, referenceRates, settleLines, table } from "./report.mjs";
import { buildScenarios, CEILING, CEILING_END, selectScenarios } from "./scenarios.mjs";
import { classify, createTenant, endpointMissing } from "./verdict.mjs";
import { seedPlan, seedWithScim, seedWithSqlite, seedWithWrangler } from "./seed.mjs";
import {
  assertLoopback,
  cpuBetween,
  cpuSample,
  createPersistDir,
  newAdminToken,
  removePersistDir,
  ROOT,
  rssMb,
  startWorker,
  workerdPids,
} from "./start-worker.mjs";

const GROUP_SIZES = [10, 10_000, 100_000];
const PAUSE_BETWEEN_SCENARIOS_MS = 300;
const UNAVAILABLE_PROBE_MS = 1000;
const RSS_SAMPLE_MS = 500;

/** 1/5/15-minute load averages: other work on the machine skews every number. */
async function loadAverage() {
  const text = await readFile("/proc/loadavg", "utf8").catch(() => "");
  return text ? text.split(" ").slice(0, 3).map(Number) : null;
}

const log = (...args) => console.error("[bench]", ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms) => Math.round(ms / 100) / 10;

/** Drops node:sqlite's ExperimentalWarning; everything else is still printed. */
function quietSqliteWarning() {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = (warning, ...rest) => {
    const text = typeof warning === "string" ? warning : warning?.message;
    const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
    if (type === "ExperimentalWarning" && /SQLite/i.test(text ?? "")) return;
    emit(warning, ...rest);
  };
}

// --- cleanup on exit, error and signals ----------------------------------------------------

const cleanups = [];
let aborted = false;
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        log("cleanup step failed:", error);
      }
    }
  })();
  return cleaning;
}
const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
function onSignal(signal) {
  if (aborted) return;
  aborted = true;
  log(`${signal}: stopping (the worker is stopped before exit)`);
  // Bounded: exit even if a cleanup step hangs.
  setTimeout(() => process.exit(SIGNALS[signal]), 20_000).unref();
  void cleanup().finally(() => process.exit(SIGNALS[signal]));
}
for (const signal of Object.keys(SIGNALS)) process.on(signal, onSignal);

/**
 * miniflare's exit hook answers SIGINT/SIGTERM by killing workerd and exiting at once, before
 * our cleanup (worker dispose, temporary directory) can run. Keep only our signal listener
 * (miniflare's `exit` hook stays: workerd is still killed if this process exits early).
 */
function ownSignals() {
  for (const signal of Object.keys(SIGNALS)) {
    for (const listener of process.listeners(signal)) if (listener !== onSignal) process.removeListener(signal, listener);
  }
}
process.on("newListener", (event) => {
  if (event in SIGNALS) queueMicrotask(ownSignals);
});

// --- the run -------------------------------------------------------------------------------

async function main() {
  const options = parseOptions();
  if (options.help) {
    console.log(HELP);
    return;
  }
  quietSqliteWarning();
  const runStarted = Date.now();
  const deadline = runStarted + options.maxMinutes * 60_000;
  const runTag = new Date(runStarted).toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  const plan = seedPlan({ users: options.users, spare: options.spare, groupSizes: GROUP_SIZES });

  if (options.list) {
    for (const s of buildScenarios(plan, runTag)) console.log(`${s.name.padEnd(32)} ${s.endpoint}`);
    return;
  }

  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false"; // no request to workers.cloudflare.com for Request.cf
  process.env.WRANGLER_SEND_METRICS = "false";
  const timings = {};
  const time = async (name, fn) => {
    const t = Date.now();
    const result = await fn();
    timings[name] = Date.now() - t;
    log(`${name}: ${seconds(timings[name])} s`);
    return result;
  };

  // The bare-runtime reference, alone on the machine's cores, first and again last (bench/reference.mjs).
  const withReference = !options.external && !options.skipReference;
  const reference = (when) =>
    measureReference({
      when,
      connections: options.connections,
      warmupS: options.warmup,
      durationS: options.duration,
      maxRequests: options.maxRequests,
      log,
      aborted: () => aborted,
      onStop: (stop) => cleanups.push(stop),
    });
  const referenceRows = withReference ? await time("referenceMs", () => reference("first")) : [];
  if (aborted) return;
  // Stops whichever SCIM Worker runs now (the first one, or the one after seeding).
  let stopCurrent = async () => {};

  let origin;
  let tenant;
  let adminToken;
  // The server's processes: SERVER_PID, or the workerd processes this run spawned, looked up
  // at each sample (wrangler may start its runtime processes after `ready`).
  let serverPids = async () => [];

  if (options.external) {
    origin = assertLoopback(process.env.BASE_URL).origin;
    adminToken = process.env.ADMIN_TOKEN;
    if (!adminToken) throw new Error("BASE_URL needs ADMIN_TOKEN");
    if (process.env.SERVER_PID) serverPids = async () => [Number(process.env.SERVER_PID)];
    tenant = await time("createTenantMs", () => createTenant(origin, adminToken));
  } else {
    const persistDir = await time("migrateMs", () => createPersistDir());
    cleanups.push(() => (options.keepData ? log(`data kept in ${persistDir}`) : removePersistDir(persistDir)));
    adminToken = newAdminToken();
    cleanups.push(() => stopCurrent());
    const start = () =>
      startWorker({ persistDir, adminToken, raiseRateLimits: options.rateLimit === "raised", onStop: (stop) => (stopCurrent = stop) });
    let worker = await time("startMs", start);
    ownSignals();
    if (aborted) return;
    tenant = await time("createTenantMs", () => createTenant(worker.url, adminToken));
    if (options.seed !== "scim") {
      await worker.stop();
      log(`seeding ${plan.total} users (${options.users} + ${options.spare} spare) and groups ${plan.groups.map((g) => g.size).join(", ")} with ${options.seed}`);
      await time("seedMs", () => (options.seed === "sqlite" ? seedWithSqlite : seedWithWrangler)(persistDir, plan, tenant.tenantId));
      if (aborted) return;
      worker = await time("restartMs", start);
      ownSignals();
    }
    origin = worker.url;
    serverPids = () => workerdPids();
  }

  const baseUrl = `${origin}/scim/v2/${tenant.tenantId}`;
  const seedClient = new Client(baseUrl, tenant.token, options.connections);
  cleanups.push(() => seedClient.close());
  if (options.seed === "scim") {
    log(`seeding ${plan.total} users and groups ${plan.groups.map((g) => g.size).join(", ")} through SCIM`);
    await time("seedMs", () => seedWithScim(seedClient, plan, { concurrency: options.connections, deadline, log }));
  }

  const check = await seedClient.json("GET", `/Users?filter=${encodeURIComponent(`userName eq "user0@bench.example"`)}`);
  if (check.status !== 200 || check.body?.totalResults !== 1) {
    throw new Error(`the seeded tenant does not answer as expected: ${check.status} ${String(check.text).slice(0, 300)}`);
  }

  const resultsDir = join(ROOT, "bench", "results");
  await mkdir(resultsDir, { recursive: true });
  const resultsFile = join(resultsDir, `${runTag}-${options.quick ? "quick" : "full"}-${options.users}u.jsonl`);
  const write = (record) => appendFile(resultsFile, JSON.stringify(record) + "\n");
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform };
  await write({
    type: "run",
    run: runTag,
    date: new Date(runStarted).toISOString(),
    machine,
    options: { ...options, help: undefined, list: undefined, strict: undefined, keepData: undefined },
    target: options.external ? "external" : "local wrangler unstable_startWorker",
    tenant: { users: options.users, spare: options.spare, totalUsers: plan.total, groups: plan.groups.map((g) => ({ label: g.label, members: g.size })) },
    timings,
    loadAverage: await loadAverage(),
    serverPids: await serverPids(),
    serverRssMb: await rssMb(await serverPids()),
  });
  for (const row of referenceRows) {
    await write({ ...row, run: runTag });
    console.log(JSON.stringify(row));
  }

  // Warm the server up (JIT, SQLite page cache) before the first, ceiling, scenario.
  const warmupMs = Math.max(1000, options.warmup * 2000);
  const warmClient = new Client(baseUrl, tenant.token, options.connections);
  try {
    let turn = 0;
    const warm = await closedLoop({
      client: warmClient,
      connections: options.connections,
      warmupMs: 0,
      durationMs: warmupMs,
      maxRequests: 100_000,
      next: () => (turn++ % 2 ? { method: "GET", path: "/ServiceProviderConfig" } : { method: "GET", path: `/Users/${plan.userIds[turn % options.users]}` }),
      aborted: () => aborted,
    });
    log(`server warm-up: ${warm.latencies.length} requests in ${seconds(warmupMs)} s`);
  } finally {
    warmClient.close();
  }

  const scenarios = selectScenarios(buildScenarios(plan, runTag), options.scenarios);
  log(`${scenarios.length} scenarios, ${options.warmup}+${options.duration} s each, ${options.connections} connections; results → ${resultsFile}`);
  const rows = [];
  for (const scenario of scenarios) {
    if (aborted) break;
    const connections = scenario.connections ?? options.connections;
    const base = { type: "scenario", run: runTag, scenario: scenario.name, endpoint: scenario.endpoint, reference: referenceOf(scenario), connections, users: options.users };
    if (scenario.group) base.groupMembers = scenario.group.size;
    if (Date.now() > deadline) {
      const row = { ...base, status: "skipped", note: `--max-minutes ${options.maxMinutes} reached`, rps: 0, errors: 0 };
      rows.push(row);
      await write(row);
      console.log(JSON.stringify(row));
      continue;
    }
    const client = new Client(baseUrl, tenant.token, connections);
    await scenario.setup?.({ origin, token: adminToken }, tenant);
    try {
      // Probe: the scenario's first request, read and checked (it counts as warm-up).
      const spec = scenario.next(0, 0, connections);
      if (!spec) throw new Error(`${scenario.name}: nothing to send (pool too small? raise --spare)`);
      const probe = { ...(await client.json(spec.method, spec.path, spec.body, { token: spec.token, absolute: spec.absolute })), spec };
      scenario.onResult?.(spec, probe);
      const missing = endpointMissing(probe);

      let rssPeak = 0;
      const sampleRss = async () => {
        const v = await rssMb(await serverPids());
        if (v !== null && v > rssPeak) rssPeak = v;
      };
      const sampler = setInterval(() => void sampleRss(), RSS_SAMPLE_MS);
      const capacity = scenario.capacity?.();
      // A scenario whose requests leave work behind warms up until that work runs in step with them.
      const warmupS = Math.max(options.warmup, scenario.minWarmupS ?? 0);
      const cpuBefore = await cpuSample(await serverPids());
      let result;
      try {
        result = await closedLoop({
          client,
          connections,
          warmupMs: missing ? 0 : warmupS * 1000,
          // Limited supply (members to add or remove): at most a tenth of it for warm-up.
          warmupMaxRequests: capacity === undefined ? Infinity : Math.floor(capacity / 10),
          durationMs: missing ? Math.min(UNAVAILABLE_PROBE_MS, options.duration * 1000) : options.duration * 1000,
          maxRequests: options.maxRequests - 1,
          next: scenario.next,
          onResult: scenario.onResult,
          aborted: () => aborted || Date.now() > deadline + 60_000,
        });
      } finally {
        clearInterval(sampler);
      }
      const cpuAfter = await cpuSample(await serverPids());
      const cpu = cpuBetween(cpuBefore, cpuAfter);
      const loopServerCpuMs = cpu ? (cpu.serverPct / 100) * (cpuAfter.at - cpuBefore.at) : null;
      const stats = summarize(result.latencies, result.measuredMs);
      const verdict = classify(scenario, probe, result.statuses, result.networkErrors);
      const row = {
        ...base,
        status: verdict.status,
        ...(verdict.note ? { note: verdict.note } : {}),
        rps: stats.rps,
        requests: stats.requests,
        measuredS: seconds(result.measuredMs),
        warmupS: missing ? 0 : warmupS,
        latencyMs: stats.latencyMs,
        statuses: result.statuses,
        errors: verdict.errors ?? 0,
        ...(Object.keys(result.networkErrors).length ? { networkErrors: result.networkErrors } : {}),
        stoppedBy: result.stoppedBy,
        ...(scenario.membersPerRequest ? { membersPerRequest: scenario.membersPerRequest } : {}),
        probe: { status: probe.status, bytes: probe.text ? Buffer.byteLength(probe.text) : 0, ms: Math.round(probe.ms * 100) / 100 },
        rssMb: await rssMb(await serverPids()),
        rssPeakMb: rssPeak || null,
        cpu,
      };
      if (scenario.verify && verdict.status === "ok") row.verify = await scenario.verify(client);
      // Work the window's requests left behind (webhook deliveries still on their way): waited for,
      // and its server CPU reported, so deferred work is not left out of the cost.
      if (scenario.settle && verdict.status === "ok") {
        const before = await cpuSample(await serverPids());
        const settled = await scenario.settle();
        const settleCpu = cpuBetween(before, await cpuSample(await serverPids()));
        row.settle = { ...settled, serverCpuMs: settleCpu ? Math.round(settleCpu.serverPct * settled.ms) / 100 : null };
        if (settled.error) Object.assign(row, { status: "errors", note: settled.error });
      }
      // Everything the scenario cost the server (warm-up, window, settle) per request it sent: the
      // fair comparison when part of the work happens after the responses.
      if (loopServerCpuMs !== null && result.issued > 0) {
        row.cpuMsPerIssuedRequest = Math.round(((loopServerCpuMs + (row.settle?.serverCpuMs ?? 0)) / result.issued) * 100) / 100;
      }
      if (row.verify?.lostUpdates) {
        row.status = "errors";
        row.note = `${row.verify.lostUpdates} lost update(s)`;
      }
      rows.push(row);
      await write(row);
      console.log(JSON.stringify(row));
    } finally {
      client.close();
      await scenario.teardown?.();
    }
    await sleep(PAUSE_BETWEEN_SCENARIOS_MS);
  }

  if (withReference && !aborted) {
    await stopCurrent();
    for (const row of await reference("last")) {
      referenceRows.push(row);
      await write({ ...row, run: runTag });
      console.log(JSON.stringify(row));
    }
  }

  const ceilings = rows.filter((r) => (r.scenario === CEILING || r.scenario === CEILING_END) && r.status === "ok" && r.rps > 0);
  const ceilingRps = ceilings.length ? Math.round((ceilings.reduce((sum, r) => sum + r.rps, 0) / ceilings.length) * 10) / 10 : 0;
  const rates = referenceRates(referenceRows);
  const summary = {
    type: "summary",
    run: runTag,
    ceiling: { scenarios: ceilings.map((r) => r.scenario), rps: ceilingRps },
    reference: rates,
    scenarios: rows.map((r) => ({
      scenario: r.scenario,
      rps: r.rps,
      fractionOfCeiling: r.status === "unavailable" || r.status === "skipped" || !ceilingRps ? null : Math.round((r.rps / ceilingRps) * 1000) / 1000,
      reference: r.reference,
      fractionOfReference: fractionOfReference(r, rates).rps,
      cpuFractionOfReference: fractionOfReference(r, rates).cpu,
      p50: r.latencyMs?.p50 ?? null,
      p99: r.latencyMs?.p99 ?? null,
      status: r.status,
    })),
    totalS: seconds(Date.now() - runStarted),
    loadAverage: await loadAverage(),
  };
  await write(summary);
  console.log(JSON.stringify(summary));
  console.log(
    `\n${options.users} users (+${options.spare} spare), groups ${plan.groups.map((g) => g.size).join("/")}, ${options.connections} connections, ` +
      `${options.warmup}+${options.duration} s per scenario; ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.node}; ${summary.totalS} s total\n`,
  );
  const [refFirst, refLast] = [referenceRows.filter((r) => !r.scenario.endsWith("-end")), referenceRows.filter((r) => r.scenario.endsWith("-end"))];
  console.log(table([...refFirst, ...rows, ...refLast], ceilingRps, rates));
  for (const line of settleLines(rows)) console.log(line);
  console.log(`\nresults: ${resultsFile}`);
  const bad = [...referenceRows, ...rows].filter((r) => r.status === "errors" || r.status === "wrong-answer");
  if (bad.length) log(`${bad.length} scenario(s) with errors or wrong answers: ${bad.map((r) => r.scenario).join(", ")}`);
  if (bad.length && options.strict) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  if (!aborted) {
    log("failed:", error instanceof Error ? error.stack : error);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}
