/**
 * The workers project itself runs with two shards (vitest.config.ts: TENANT_SHARDS =
 * "SHARD_1,SHARD_2", the directory alone in DB), so every test file's tenants are spread over
 * both by the least-data placement and each test reaches its tenant's rows through
 * test/support/shards.ts. This checks that premise: if the configuration fell back to one
 * shard, every other test would still pass without exercising the routing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant, scim } from "./support/http";
import { everyShard, shardBinding, shardNameOf } from "./support/shards";
import { USER } from "./support/urns";

const count = async (db: D1Database, tenantId: string) =>
  (await db.prepare("SELECT count(*) AS n FROM users WHERE tenant_id = ?").bind(tenantId).first<{ n: number }>())?.n ?? 0;

describe("the tests' own deployment", () => {
  it("places a file's new tenants on both shards, and each tenant's rows only on its own", async () => {
    expect(everyShard()).toHaveLength(2);
    const tenants = [];
    for (let i = 0; i < 4; i += 1) {
      const tenant = await createTenant();
      expect(await shardNameOf(tenant.id)).toBe(tenant.shard);
      // Data makes this shard the larger one, so the next tenant goes to the other.
      expect((await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `spread${i}@example.com` } })).status).toBe(201);
      tenants.push(tenant);
    }
    expect(new Set(tenants.map((t) => t.shard))).toEqual(new Set(["SHARD_1", "SHARD_2"]));
    for (const tenant of tenants) {
      const other = tenant.shard === "SHARD_1" ? "SHARD_2" : "SHARD_1";
      expect(await count(shardBinding(tenant.shard), tenant.id)).toBe(1);
      expect(await count(shardBinding(other), tenant.id)).toBe(0);
      expect(await count(env.DB, tenant.id)).toBe(0);
    }
  });
});
