/**
 * Runs the real Worker locally for browser tests: wrangler's dev server on 127.0.0.1 with
 * D1, KV and the Durable Object persisted to a throwaway directory, migrated first.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { unstable_startWorker } from "wrangler";

const PROJECT_ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER_CONFIG = join(PROJECT_ROOT, "wrangler.toml");
const WRANGLER_CLI = join(PROJECT_ROOT, "node_modules/wrangler/bin/wrangler.js");
const MIGRATION_TIMEOUT_MS = 60_000;

export interface LocalWorker {
  /** The Worker's origin, e.g. `http://127.0.0.1:43117`. */
  url: string;
  /** The ADMIN_TOKEN secret this instance was started with. */
  adminToken: string;
  stop(): Promise<void>;
}

const run = promisify(execFile);

/** wrangler.toml's D1 bindings: the directory and the shard (src/storage/shards.ts), same migrations. */
const D1_BINDINGS = ["DB", "SHARD_1"];

async function applyMigrations(persistDir: string): Promise<void> {
  for (const binding of D1_BINDINGS) {
    // Run the CLI with this very Node binary: wrangler needs a newer Node than the system one may be.
    await run(
      process.execPath,
      [WRANGLER_CLI, "d1", "migrations", "apply", binding, "--local", "--persist-to", persistDir, "--config", WRANGLER_CONFIG],
      {
        cwd: PROJECT_ROOT,
        timeout: MIGRATION_TIMEOUT_MS,
        // CI=true: apply without the confirmation prompt.
        env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      },
    );
  }
}

export interface LocalWorkerOptions {
  /** Plain-text vars that override wrangler.toml's (e.g. a fast WEBHOOK_RETRY_SCHEDULE). */
  vars?: Record<string, string>;
}

export async function startLocalWorker(options: LocalWorkerOptions = {}): Promise<LocalWorker> {
  const persistDir = await mkdtemp(join(tmpdir(), "scim-edge-worker-"));
  const removeDir = () => rm(persistDir, { recursive: true, force: true });
  try {
    await applyMigrations(persistDir);
    const adminToken = randomBytes(32).toString("base64url");
    const worker = await unstable_startWorker({
      config: WRANGLER_CONFIG,
      bindings: {
        ADMIN_TOKEN: { type: "secret_text", value: adminToken },
        ...Object.fromEntries(Object.entries(options.vars ?? {}).map(([name, value]) => [name, { type: "plain_text" as const, value }])),
      },
      dev: {
        persist: persistDir,
        // Port 0: the OS picks a free port, so parallel runs never collide.
        server: { hostname: "127.0.0.1", port: 0 },
        inspector: false,
        watch: false,
        logLevel: "warn",
      },
    });
    try {
      await worker.ready;
      const url = (await worker.url).origin;
      return {
        url,
        adminToken,
        stop: async () => {
          await worker.dispose();
          await removeDir();
        },
      };
    } catch (error) {
      await worker.dispose();
      throw error;
    }
  } catch (error) {
    await removeDir();
    throw error;
  }
}
