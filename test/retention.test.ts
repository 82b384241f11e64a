/**
 * Retention of the event feed and the provisioning log (src/maintenance/retention.ts), driven
 * through the Worker's own `scheduled` handler as the Cron Trigger calls it. Rows are seeded
 * straight into D1 with the timestamps a month-old deployment would have.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { RETENTION_BATCH_ROWS, RETENTION_STATEMENTS_PER_TABLE } from "../src/maintenance/retention";
import { countingEnv } from "./support/counting-env";
import { admin, createTenant } from "./support/http";
import { shardOf } from "./support/shards";

const DAY_MS = 86_400_000;
const NOW = Date.parse("2026-12-01T12:00:00.000Z");
const daysAgo = (days: number, plusMs = 0) => new Date(NOW - days * DAY_MS + plusMs).toISOString();

/** `count` rows per table for `tenantId`, the i-th written `plusMs + i` ms after `days` days before NOW. */
async function seed(table: "events" | "request_log", tenantId: string, days: number, count: number, plusMs = 0): Promise<void> {
  const start = NOW - days * DAY_MS + plusMs;
  // One statement however many rows: a recursive counter, timestamps computed in SQL.
  const rows = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)`;
  const at = `strftime('%Y-%m-%dT%H:%M:%S', (?3 + i) / 1000, 'unixepoch') || printf('.%03dZ', (?3 + i) % 1000)`;
  const sql =
    table === "events"
      ? `${rows} INSERT INTO events (tenant_id, type, resource_type, resource_id, at, data) SELECT ?1, 'user.created', 'User', 'u' || i, ${at}, '{}' FROM n`
      : `${rows} INSERT INTO request_log (tenant_id, at, method, path, status, duration_ms) SELECT ?1, ${at}, 'POST', '/scim/v2/x/Users', 201, 3 FROM n`;
  await (await shardOf(tenantId)).prepare(sql).bind(tenantId, count, start).run();
}

async function timestamps(table: "events" | "request_log", tenantId: string): Promise<string[]> {
  const { results } = await (await shardOf(tenantId)).prepare(`SELECT at FROM ${table} WHERE tenant_id = ? ORDER BY seq`).bind(tenantId).all<{ at: string }>();
  return results.map((r) => r.at);
}

async function oldCount(table: "events" | "request_log", tenantId: string, days = 30): Promise<number> {
  const row = await (await shardOf(tenantId)).prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ? AND at < ?`).bind(tenantId, daysAgo(days)).first<{ n: number }>();
  return row?.n ?? 0;
}

/** One run of the Cron Trigger's handler at NOW. */
async function runRetention(bindings: Cloudflare.Env = env): Promise<void> {
  // The handler awaits its work itself (no waitUntil), so the run is over when it returns.
  await worker.scheduled(createScheduledController({ scheduledTime: NOW, cron: "*/15 * * * *" }), bindings);
}

describe("retention of events and the provisioning log (scheduled handler)", () => {
  it("deletes rows older than 30 days, keeps recent ones, and keeps other tenants' recent rows", async () => {
    const [tenant, other] = await Promise.all([createTenant(), createTenant()]);
    for (const table of ["events", "request_log"] as const) {
      await seed(table, tenant.id, 45, 3);
      await seed(table, tenant.id, 30, 2, -60_000); // a minute past the cutoff: gone
      await seed(table, tenant.id, 30, 2, 60_000); // a minute inside it: kept
      await seed(table, tenant.id, 1, 2);
      await seed(table, other.id, 31, 2);
      await seed(table, other.id, 29, 2);
    }
    await runRetention();

    for (const table of ["events", "request_log"] as const) {
      expect(await timestamps(table, tenant.id), table).toEqual([daysAgo(30, 60_000), daysAgo(30, 60_001), daysAgo(1), daysAgo(1, 1)]);
      expect(await timestamps(table, other.id), table).toEqual([daysAgo(29), daysAgo(29, 1)]);
    }
  });

  it("serves an events cursor older than retention from the oldest event kept", async () => {
    const tenant = await createTenant();
    await seed("events", tenant.id, 40, 3);
    await seed("events", tenant.id, 2, 2);
    const before = await (await admin(`/tenants/${tenant.id}/events?after=0&limit=1`)).json<{ events: { seq: number }[] }>();
    const prunedSeq = before.events[0]?.seq ?? 0;
    await runRetention();

    const res = await admin(`/tenants/${tenant.id}/events?after=${prunedSeq}`);
    const body = await res.json<{ events: { at: string }[] }>();
    expect(res.status).toBe(200);
    expect(body.events.map((e) => e.at)).toEqual([daysAgo(2), daysAgo(2, 1)]);
  });

  it("takes the retention periods from EVENT_RETENTION_DAYS and LOG_RETENTION_DAYS", async () => {
    const tenant = await createTenant();
    await seed("events", tenant.id, 10, 2);
    await seed("request_log", tenant.id, 10, 2);
    await runRetention({ ...env, EVENT_RETENTION_DAYS: "7", LOG_RETENTION_DAYS: "not a number" });

    expect(await timestamps("events", tenant.id)).toEqual([]);
    // An unusable value keeps the default of 30 days.
    expect(await timestamps("request_log", tenant.id)).toEqual([daysAgo(10), daysAgo(10, 1)]);
  });

  it("deletes at most its bound per run, in statements of at most 5,000 rows, and the next run continues", async () => {
    const tenant = await createTenant();
    const bound = RETENTION_BATCH_ROWS * RETENTION_STATEMENTS_PER_TABLE;
    const backlog = bound + 1_500;
    await seed("events", tenant.id, 60, backlog);
    await seed("events", tenant.id, 3, 5);
    await seed("request_log", tenant.id, 60, 7);
    const counting = countingEnv(env);

    // Retention sweeps every shard; the bounds are per shard, so count the tenant's shard.
    const onTenantShard = () => counting.roundTrips.filter((t) => t.binding === tenant.shard);
    await runRetention(counting.env);
    const statements = onTenantShard().flatMap((t) => t.statements);
    const context = statements.map((s) => `${s.sql.slice(0, 80)} read=${s.rowsRead} written=${s.rowsWritten}`).join("\n");
    // Each statement is its own round trip: other tenants' queries interleave between them.
    expect(counting.roundTrips.every((t) => t.statements.length === 1), context).toBe(true);
    const deletes = statements.filter((s) => /^delete from/i.test(s.sql));
    expect(deletes.filter((s) => s.sql.includes('"events"')), context).toHaveLength(RETENTION_STATEMENTS_PER_TABLE);
    expect(deletes.filter((s) => s.sql.includes('"request_log"')), context).toHaveLength(1);
    expect(await oldCount("events", tenant.id), "the first run stops at its bound").toBe(backlog - bound);
    expect(await oldCount("request_log", tenant.id)).toBe(0);
    for (const s of deletes) {
      // A batch reads its range of the `at` index, then each row and its index entries (about
      // 4 reads per row), never the table: the backlog alone is more than 10 times a batch.
      expect(s.rowsRead ?? Infinity, context).toBeLessThanOrEqual(4 * RETENTION_BATCH_ROWS);
      expect(s.rowsWritten ?? Infinity, context).toBeLessThanOrEqual(3 * RETENTION_BATCH_ROWS);
    }

    counting.reset();
    await runRetention(counting.env);
    expect(await oldCount("events", tenant.id), "the second run finishes the backlog").toBe(0);
    expect(await timestamps("events", tenant.id)).toHaveLength(5);
    // It stopped as soon as a batch came back short: one statement per table.
    expect(onTenantShard()).toHaveLength(2);
  });
});
