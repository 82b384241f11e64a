import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Set by vitest.config.ts: the SQL of migrations/, applied by test/apply-migrations.ts. */
      TEST_MIGRATIONS: D1Migration[];
      /** The workers project's second shard (vitest.config.ts d1Databases; not in wrangler.toml). */
      SHARD_2: D1Database;
    }
  }
}
