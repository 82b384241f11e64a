import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_ADMIN_TOKEN } from "./test/support/admin-token.ts";
import { TEST_PUBLIC_URL } from "./test/support/public-url.ts";

export { TEST_ADMIN_TOKEN };

// The pool reads wrangler.toml through wrangler, which announces "Using secrets defined in
// .dev.vars" once per test file. The tests bind their own ADMIN_TOKEN, so that notice is noise;
// warnings and errors still show. An explicit WRANGLER_LOG wins.
process.env.WRANGLER_LOG ??= "warn";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                // PUBLIC_URL as a deployment sets it: the URLs handed out use it, whatever host a
                // test sends (test/public-url.test.ts also runs without it).
                // Two shards, SHARD_1 and SHARD_2 (a test-only binding, next to wrangler.toml's),
                // and the directory alone in DB: new tenants go to the shard with the least data,
                // so a file's tenants land on both, and a query for a tenant's data that ran on
                // DB or on the other shard finds nothing: every test checks the routing. Tests
                // reach a tenant's rows through test/support/shards.ts. test/shards.test.ts also
                // runs with DB as a shard (TENANT_SHARDS = "DB,SHARD_1", as wrangler.toml).
                bindings: { TEST_MIGRATIONS: migrations, ADMIN_TOKEN: TEST_ADMIN_TOKEN, PUBLIC_URL: TEST_PUBLIC_URL, TENANT_SHARDS: "SHARD_1,SHARD_2" },
                d1Databases: { SHARD_2: "scim-edge-test-shard-2" },
                // A small budget so a test can exhaust it; no other test sends this many requests for one tenant.
                ratelimits: { TENANT_RATE_LIMIT: { namespace_id: "1001", simple: { limit: 300, period: 60 } } },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/browser/**", "test/webhooks/**"],
            setupFiles: ["./test/apply-migrations.ts"],
            // test/fuzz-http.test.ts reads it with inject("fuzzSeed"): FUZZ_SEED=<n> replays a run.
            provide: { fuzzSeed: process.env.FUZZ_SEED ?? "" },
            // Timeouts only catch a hang: speed is the benchmark's job, and a busy CI machine
            // can take seconds for the 100,000-member seeds. Polls wait for waitUntil work.
            testTimeout: 60_000,
            hookTimeout: 120_000,
            expect: { poll: { timeout: 15_000 } },
          },
        },
        {
          // Webhooks end to end: the Worker under wrangler's dev server delivering to a node:http receiver.
          test: {
            name: "webhooks",
            include: ["test/webhooks/**/*.test.ts"],
            environment: "node",
            expect: { poll: { timeout: 30_000 } },
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
        {
          test: {
            name: "browser",
            include: ["test/browser/**/*.test.ts"],
            environment: "node",
            expect: { poll: { timeout: 15_000 } },
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
