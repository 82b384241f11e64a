/**
 * scripts/recount-seq-blocks.sql, which `npm run deploy` runs after the new Worker is live:
 * whatever drift the per-block counts picked up (rows a previous Worker wrote without counting
 * them), it restores the exact counts, and startIndex pages are right again.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import recountSql from "../scripts/recount-seq-blocks.sql?raw";
import { createTenant, scim } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { seedUsers } from "./support/seed";
import { shardOf } from "./support/shards";

/** The file's statements (each ends with ";" at the end of a line; comments are dropped). */
function statements(text: string): string[] {
  const code = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n");
  return code
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

async function counts(table: "user_seq_blocks" | "group_seq_blocks", tenantId: string) {
  const { results } = await (await shardOf(tenantId)).prepare(`SELECT block, live FROM ${table} WHERE tenant_id = ? AND live > 0 ORDER BY block`).bind(tenantId).all();
  return results;
}

async function truth(table: "users" | "groups", tenantId: string) {
  const { results } = await (await shardOf(tenantId)).prepare(`SELECT seq / 1024 AS block, count(*) AS live FROM ${table} WHERE tenant_id = ? GROUP BY seq / 1024 ORDER BY block`).bind(tenantId).all();
  return results;
}

describe("recount-seq-blocks.sql", () => {
  it("restores exact per-block counts after uncounted creates and deletes, and startIndex pages follow", async () => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: 3000, groups: 3000 });
    const db = await shardOf(tenant.id);
    // Drift, as a Worker without the bookkeeping would leave it: rows deleted and blocks lost or inflated.
    await db.batch([
      db.prepare("DELETE FROM users WHERE tenant_id = ? AND id IN (?, ?)").bind(tenant.id, seeded.userId(5), seeded.userId(2000)),
      db.prepare("DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?").bind(tenant.id, seeded.groupId(1500)),
      db.prepare("DELETE FROM groups WHERE tenant_id = ? AND id = ?").bind(tenant.id, seeded.groupId(1500)),
      db.prepare("UPDATE user_seq_blocks SET live = live + 7 WHERE tenant_id = ?").bind(tenant.id),
      db.prepare("DELETE FROM group_seq_blocks WHERE tenant_id = ? AND block = 2").bind(tenant.id),
      // Blocks whose rows are all gone.
      db.prepare("INSERT INTO user_seq_blocks (tenant_id, block, live) VALUES (?, 50, 3)").bind(tenant.id),
      db.prepare("INSERT INTO group_seq_blocks (tenant_id, block, live) VALUES (?, 50, 3)").bind(tenant.id),
      // The scan budget's document size (migrations/0008), which the previous Worker did not keep.
      db.prepare("UPDATE tenants SET user_doc_chars = 12345 WHERE id = ?").bind(tenant.id),
    ]);
    expect(await counts("user_seq_blocks", tenant.id)).not.toEqual(await truth("users", tenant.id));

    const recount = statements(recountSql);
    expect(recount).toHaveLength(5);
    await db.batch(recount.map((sql) => db.prepare(sql)));

    expect(await counts("user_seq_blocks", tenant.id)).toEqual(await truth("users", tenant.id));
    expect(await counts("group_seq_blocks", tenant.id)).toEqual(await truth("groups", tenant.id));
    const size = await db.prepare("SELECT user_doc_chars AS counter, (SELECT sum(length(doc)) FROM users WHERE tenant_id = tenants.id) AS truth FROM tenants WHERE id = ?")
      .bind(tenant.id)
      .first<{ counter: number; truth: number }>();
    expect(size?.counter).toBe(size?.truth);
    const page = await scim(tenant, "/Groups?startIndex=2500&count=3&attributes=id");
    const ids = (await page.json<ListJson<{ id: string }>>()).Resources.map((g) => g.id);
    // Group 1500 is gone, so index 2500 is group 2501.
    expect(ids).toEqual([seeded.groupId(2501), seeded.groupId(2502), seeded.groupId(2503)]);
  });
});
