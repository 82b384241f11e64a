/**
 * The counting env (support/counting-env.ts) fails every statement that breaks one of D1's
 * production limits (support/d1-limits.ts), which local D1 does not enforce: a test that
 * passes here would otherwise fail on Cloudflare. Each check names the statement.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingEnv } from "./support/counting-env";
import { MAX_RESULT_BYTES, MAX_VALUE_BYTES } from "./support/d1-limits";

/** SQL for a text of exactly ?N characters (SQLite's printf caps its width at 100,000). */
const text = (n: number) => `substr(hex(zeroblob((?${n} + 1) / 2)), 1, ?${n})`;

describe("the counting env enforces D1's production limits", () => {
  it("fails a statement that returns a value over 2,000,000 bytes (local D1 returns it), in a batch or alone", async () => {
    const probe = countingEnv(env);
    const db = probe.env.DB;
    const sql = `SELECT ${text(1)} AS big`;
    await expect(db.prepare(sql).bind(MAX_VALUE_BYTES).first()).resolves.toMatchObject({ big: expect.any(String) as unknown });
    await expect(db.prepare(sql).bind(MAX_VALUE_BYTES + 1).first()).rejects.toThrow(/values are at most 2000000 bytes.*SELECT substr/);
    await expect(db.batch([db.prepare("SELECT 1"), db.prepare(sql).bind(MAX_VALUE_BYTES + 1)])).rejects.toThrow(/values are at most 2000000 bytes/);
    await expect(db.prepare(sql).bind(MAX_VALUE_BYTES + 1).all()).rejects.toThrow(/values are at most/);
    await expect(db.prepare(sql).bind(MAX_VALUE_BYTES + 1).raw()).rejects.toThrow(/values are at most/);
    expect(probe.violations).toHaveLength(4);
  });

  it("fails a row over 2,000,000 bytes made of smaller values, and a result over 50 MB made of smaller rows", async () => {
    const probe = countingEnv(env);
    const db = probe.env.DB;
    const half = MAX_VALUE_BYTES / 2;
    await expect(db.prepare(`SELECT ${text(1)} AS a, ${text(1)} AS b, 1 AS c`).bind(half).first()).rejects.toThrow(/rows are at most 2000000 bytes/);
    const rows = Math.ceil(MAX_RESULT_BYTES / 1_000_000) + 1;
    const many = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT ${text(2)} AS v FROM n`;
    await expect(db.prepare(many).bind(rows, 1_000_000).all()).rejects.toThrow(/results are at most 50000000 bytes/);
    await expect(db.prepare(many).bind(rows - 2, 1_000_000).all()).resolves.toMatchObject({ results: expect.any(Array) as unknown });
    expect(probe.violations).toHaveLength(2);
  });

  it("fails at bind() a bound value over 2,000,000 bytes", () => {
    const probe = countingEnv(env);
    expect(() => probe.env.DB.prepare("SELECT length(?)").bind("x".repeat(MAX_VALUE_BYTES + 1))).toThrow(/parameter 1 is 2000001: SELECT length/);
    expect(() => probe.env.DB.prepare("SELECT length(?)").bind("é".repeat(MAX_VALUE_BYTES / 2 + 1))).toThrow(/parameter 1 is 2000002/);
    expect(probe.violations).toHaveLength(2);
  });

  it("fails a statement over 100,000 bytes and a function call with more than 32 arguments, not 32", () => {
    const probe = countingEnv(env);
    const long = `SELECT 1 ${"-".repeat(100_000)}`;
    expect(() => probe.env.DB.prepare(long)).toThrow(/statements are at most 100000 bytes; this one is 100009/);
    const args = (n: number) => Array.from({ length: n }, (_, i) => `'${i}, (x)'`).join(", ");
    expect(() => probe.env.DB.prepare(`SELECT coalesce(${args(33)})`)).toThrow(/at most 32 arguments; coalesce\(\) here takes 33/);
    expect(() => probe.env.DB.prepare(`SELECT coalesce(${args(32)}), x IN (${args(40)}) FROM "t" ("a", "b")`)).not.toThrow();
    expect(probe.violations).toHaveLength(2);
  });
});
