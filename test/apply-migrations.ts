import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Storage is isolated per test file, so every file starts from the migrated schema. Every D1
// database runs the same migrations: the directory (DB) and each shard (vitest.config.ts
// TENANT_SHARDS = "SHARD_1,SHARD_2"; test/shards.test.ts also uses DB as a shard).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.SHARD_1, env.TEST_MIGRATIONS);
await applyD1Migrations(env.SHARD_2, env.TEST_MIGRATIONS);
