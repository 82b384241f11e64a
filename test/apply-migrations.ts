import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Storage is isolated per test file, so every file starts from the migrated schema. Every D1
// database runs the same migrations: the directory (DB) and each shard (wrangler.toml
// TENANT_SHARDS = "DB,SHARD_1": every test runs with two shards).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.SHARD_1, env.TEST_MIGRATIONS);
