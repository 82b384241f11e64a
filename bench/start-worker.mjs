/**
 * Local worker for the benchmark: a throwaway persistence directory with the D1 migrations
 * applied, then the Worker started with wrangler's `unstable_startWorker` on a free port of
 * 127.0.0.1. Also finds the workerd processes it spawned (for RSS) and the D1 SQLite file
 * (for the seeding fast path).
 */
import { d1Bindings } from "../scripts/d1-databases.mjs";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

export const ROOT = resolve(import.meta.dirname, "..");
const CONFIG = join(ROOT, "wrangler.toml");
const WRANGLER_BIN = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const CLI_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

const execFileAsync = promisify(execFile);

/** Environment for wrangler's CLI: no prompts, no telemetry, no colours, no Request.cf download. */
function cliEnv() {
  return { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" };
}

/** Runs `wrangler <args>` with this Node binary (wrangler needs a recent Node). */
export async function wrangler(args, { timeoutMs = CLI_TIMEOUT_MS } = {}) {
  const { stdout, stderr } = await execFileAsync(process.execPath, [WRANGLER_BIN, ...args, "--config", CONFIG], {
    cwd: ROOT,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: cliEnv(),
  });
  return { stdout, stderr };
}

/** A fresh persistence directory (D1, KV, Durable Objects) with the migrations applied. */
export async function createPersistDir() {
  const dir = await mkdtemp(join(tmpdir(), "scim-edge-bench-"));
  try {
    // Every D1 database of wrangler.toml (the directory and the shards) runs the same migrations.
    for (const binding of d1Bindings()) await wrangler(["d1", "migrations", "apply", binding, "--local", "--persist-to", dir]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

export async function removePersistDir(dir) {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

/**
 * The local D1 database file that holds `tenantId`'s row, inside a persistence directory
 * (miniflare's layout: one file per D1 binding, named by a hash; the directory and each shard).
 */
export async function findD1File(persistDir, tenantId) {
  const { DatabaseSync } = await import("node:sqlite");
  const dir = join(persistDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  const holding = files.filter((f) => {
    const db = new DatabaseSync(join(dir, f), { readOnly: true });
    try {
      return db.prepare("SELECT 1 FROM tenants WHERE id = ?").get(tenantId) !== undefined;
    } finally {
      db.close();
    }
  });
  if (holding.length !== 1) throw new Error(`expected one D1 SQLite file with tenant ${tenantId} in ${dir}, found ${holding.length} of ${files.length}`);
  return join(dir, holding[0]);
}

export function newAdminToken() {
  return randomBytes(32).toString("base64url");
}

/** Only 127.0.0.1 is ever a target. */
export function assertLoopback(url) {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" || parsed.hostname !== "127.0.0.1") {
    throw new Error(`refusing to benchmark ${parsed.origin}: only http://127.0.0.1:<port> is allowed`);
  }
  return parsed;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Highest limit the rate-limit binding takes per period; far above what 2 cores can send. */
const RAISED_LIMIT = 1_000_000_000;

/**
 * The config's rate-limit bindings (`[[ratelimits]]`) with the same name, namespace and period
 * but a limit no benchmark reaches: the binding is still called on every request (its cost is
 * measured), it just never answers 429. Bindings given to unstable_startWorker win over the config's.
 */
export async function raisedRateLimits() {
  const { unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: CONFIG }, { hideWarnings: true });
  const raised = {};
  for (const { name, namespace_id, simple } of config.ratelimits ?? []) {
    raised[name] = { type: "ratelimit", namespace_id, simple: { ...simple, limit: RAISED_LIMIT } };
  }
  return raised;
}

/**
 * Starts the Worker (`config`: the SCIM Worker's wrangler.toml unless given, e.g. the bare-runtime
 * reference's) on 127.0.0.1 (port 0: the OS picks a free one) against `persistDir`.
 * `raiseRateLimits`: see raisedRateLimits. `onStop(stop)` is called as soon as there is
 * something to stop. Returns { url, stop() }; stop() is idempotent.
 */
export async function startWorker({ config = CONFIG, persistDir, adminToken, raiseRateLimits = true, onStop = () => {}, logLevel = "error" }) {
  // The local queue logs every batch it delivers at info level ("QUEUE … 10/10"); a bench run
  // sends thousands. An explicit WRANGLER_LOG wins.
  process.env.WRANGLER_LOG ??= logLevel;
  const { unstable_startWorker } = await import("wrangler");
  // Two shards, as wrangler.toml: the seeded tenant is placed on DB (the seed writes DB's file).
  const bindings = { ADMIN_TOKEN: { type: "secret_text", value: adminToken } };
  if (raiseRateLimits) Object.assign(bindings, await raisedRateLimits());
  const worker = await unstable_startWorker({
    config,
    bindings,
    dev: {
      persist: persistDir,
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      watch: false,
      logLevel,
    },
  });
  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      const pids = await workerdPids();
      try {
        await withTimeout(worker.dispose(), STOP_TIMEOUT_MS, "stopping the worker");
      } catch (error) {
        console.error("[bench] stopping the worker failed:", error);
      }
      // Give Node the moment to reap the workerd processes (no zombies), then kill leftovers.
      const until = Date.now() + STOP_TIMEOUT_MS;
      while (Date.now() < until && (await alive(pids)).length) await new Promise((r) => setTimeout(r, 100));
      for (const pid of await alive(pids)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    })());
  onStop(stop); // before `ready`: a signal during start-up stops this worker too
  try {
    await withTimeout(worker.ready, START_TIMEOUT_MS, "starting the worker");
    const url = (await worker.url).origin;
    assertLoopback(url);
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// --- processes -------------------------------------------------------------------------

async function readProc(pid, file) {
  try {
    return await readFile(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

/** pid → { ppid, comm } for every process we can read. */
async function processTable() {
  const table = new Map();
  let entries = [];
  try {
    entries = await readdir("/proc");
  } catch {
    return table;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readProc(name, "stat");
    if (!stat) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    table.set(Number(name), { ppid, comm });
  }
  return table;
}

/** workerd processes descended from this Node process (the ones unstable_startWorker spawned). */
export async function workerdPids(rootPid = process.pid) {
  const table = await processTable();
  const pids = [];
  for (const [pid, { comm }] of table) {
    if (!comm.startsWith("workerd")) continue;
    for (let p = table.get(pid)?.ppid, hops = 0; p && hops < 16; p = table.get(p)?.ppid, hops++) {
      if (p === rootPid) {
        pids.push(pid);
        break;
      }
    }
  }
  return pids;
}

/** Those of `pids` that still run (zombies count as gone). */
async function alive(pids) {
  const running = [];
  for (const pid of pids) {
    const stat = await readProc(pid, "stat");
    if (stat && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z") running.push(pid);
  }
  return running;
}

/** Resident set size in MB of the given processes (summed), or null when unknown. */
export async function rssMb(pids) {
  let kb = 0;
  let known = false;
  for (const pid of pids) {
    const status = await readProc(pid, "status");
    const m = status && /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (m) {
      kb += Number(m[1]);
      known = true;
    }
  }
  return known ? Math.round(kb / 102.4) / 10 : null;
}

// --- CPU accounting --------------------------------------------------------------------------

const CLK_TCK = 100; // USER_HZ on Linux

async function processJiffies(pid) {
  const stat = await readProc(pid, "stat");
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** CPU counters now: the machine's busy time, each server process's (pids) and this process's. */
export async function cpuSample(serverPids) {
  const stat = (await readFile("/proc/stat", "utf8").catch(() => "")).split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = stat;
  const server = new Map();
  for (const pid of serverPids) server.set(pid, await processJiffies(pid));
  return { at: performance.now(), busy: user + nice + system + irq + softirq + steal, server, client: await processJiffies(process.pid) };
}

/**
 * CPU used between two samples, in % of one core: the server, this process (load generator
 * plus wrangler's in-process parts), and everything else on the machine. A server process
 * that appeared in between counts from its start.
 */
export function cpuBetween(a, b) {
  const seconds = (b.at - a.at) / 1000;
  if (!(seconds > 0) || !b.busy) return null;
  const pct = (jiffies) => Math.round((jiffies / CLK_TCK / seconds) * 1000) / 10;
  let server = 0;
  const perProcess = {};
  for (const [pid, jiffies] of b.server) {
    const used = jiffies - (a.server.get(pid) ?? 0);
    server += used;
    perProcess[pid] = pct(used);
  }
  const client = b.client - a.client;
  return { serverPct: pct(server), clientPct: pct(client), otherPct: Math.max(0, pct(b.busy - a.busy - server - client)), serverProcessesPct: perProcess };
}
