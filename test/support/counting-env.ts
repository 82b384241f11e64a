/**
 * Counts the work a request does, on the real bindings (no mocked semantics): a D1 proxy that
 * records every statement (SQL, bound parameters, rows read) and every round trip, and a KV
 * proxy that counts reads. It also enforces D1's production limits that local D1 does not
 * (../shared/PRODUCTION-LIMITS.md, see d1-limits.ts): 100 bound parameters, a 100,000-byte
 * statement, 32 arguments per SQL function and 2,000,000 bytes per bound value are checked
 * at `bind()`/`prepare()`, which throws; 2,000,000 bytes per result value or row and 50 MB
 * per result are checked on what D1 returns, which then throws as production D1 would fail
 * the query. Each is recorded as a violation naming the statement, and `send()` rethrows it
 * even when the app turned the error into a 500.
 *
 * Round trips, as D1 bills latency: each `batch()` is one, and so is each `first()`, `all()`,
 * `run()` or `raw()` of a statement outside a batch (and `exec()`). drizzle's D1 driver
 * (drizzle-orm/d1/session.js) uses exactly `prepare()`, `bind()`, `raw()`, `all()`, `run()`
 * and `batch()` of statements it bound; nothing else is needed.
 *
 * `send()` splits a request's work at the response: round trips and KV reads that *settled*
 * before the fetch handler returned its Response are the request's own (the response waited
 * for them); the rest ran in `ctx.waitUntil` (the provisioning log, the last-used stamp).
 * Settling, not starting, is the cut: the log write starts a few microtasks before the
 * Response is returned, but its I/O cannot complete before the handler's microtasks finish.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import { MAX_BOUND_PARAMETERS } from "../../src/storage/chunk";
import { DIRECTORY_BINDING, shardNames } from "../../src/storage/shards";
import { resultViolation, statementViolation } from "./d1-limits";
import { shardBinding } from "./shards";

export { MAX_BOUND_PARAMETERS };

export interface Counts {
  /** batch() calls plus statements run outside a batch. */
  d1RoundTrips: number;
  /** Statements sent to D1, inside batches or not. */
  statements: number;
  /** The most parameters any sent statement bound. */
  maxParameters: number;
  /** KV get() / getWithMetadata() calls (a multi-key get counts once: one round trip). */
  kvReads: number;
}

export interface StatementRecord {
  sql: string;
  params: unknown[];
  /** D1's rows_read for this statement when the API reports it (batch/all/run, not raw/first). */
  rowsRead?: number;
  /** D1's rows_written (rows and index entries changed), where rowsRead is reported. */
  rowsWritten?: number;
}

export type RoundTripKind = "batch" | "first" | "all" | "run" | "raw" | "exec";
export type Phase = "response" | "background";

export interface RoundTripRecord {
  kind: RoundTripKind;
  /** The D1 binding it ran on (DB, SHARD_1, SHARD_2). */
  binding: string;
  statements: StatementRecord[];
  settled: boolean;
  failed: boolean;
  phase?: Phase;
}

export interface KvReadRecord {
  key: string;
  settled: boolean;
  phase?: Phase;
}

export interface CountingEnv {
  /** The app's env with DB, every shard and TOKENS replaced by the counting proxies. */
  env: Cloudflare.Env;
  /** Totals since the last reset(), over everything issued (settled or not). */
  readonly counts: Counts;
  readonly roundTrips: readonly RoundTripRecord[];
  readonly kvReads: readonly KvReadRecord[];
  /** Statements that broke one of D1's production limits (each also threw, see the file comment). */
  readonly violations: readonly string[];
  reset(): void;
}

export interface Sent {
  response: Response;
  /** Work the response waited for. */
  before: Counts;
  /** Work done in waitUntil after the response. */
  after: Counts;
  /** The statements of `before`, in order (for EXPLAIN QUERY PLAN). */
  statements: StatementRecord[];
  /** The statements of `after`, in order. */
  backgroundStatements: StatementRecord[];
}

interface Recorder {
  roundTrips: RoundTripRecord[];
  kvReads: KvReadRecord[];
  violations: string[];
}

function describeSql(sql: string): string {
  return sql.length > 300 ? `${sql.slice(0, 300)}…` : sql;
}

/** A bound (or not yet bound) statement; executing it outside a batch is one round trip. */
class CountingStatement implements D1PreparedStatement {
  constructor(
    readonly real: D1PreparedStatement,
    readonly sql: string,
    readonly params: unknown[],
    private readonly recorder: Recorder,
    readonly binding: string,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    const problem =
      values.length > MAX_BOUND_PARAMETERS
        ? `D1 binds at most ${MAX_BOUND_PARAMETERS} parameters per statement; this one binds ${values.length}`
        : statementViolation(this.sql, values);
    if (problem !== undefined) violate(this.recorder, `${problem}: ${describeSql(this.sql)}`);
    return new CountingStatement(this.real.bind(...values), this.sql, values, this.recorder, this.binding);
  }

  /** Fails like production D1 when what the statement returned breaks a result limit. */
  checkResult(rows: readonly unknown[] | undefined): void {
    const problem = resultViolation(rows ?? []);
    if (problem !== undefined) violate(this.recorder, `${problem}: ${describeSql(this.sql)}`);
  }

  private record(kind: RoundTripKind): { statement: StatementRecord; trip: RoundTripRecord } {
    const statement: StatementRecord = { sql: this.sql, params: this.params };
    const trip: RoundTripRecord = { kind, binding: this.binding, statements: [statement], settled: false, failed: false };
    this.recorder.roundTrips.push(trip);
    return { statement, trip };
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    const { trip } = this.record("first");
    return settle(trip, colName === undefined ? this.real.first<T>() : this.real.first<T>(colName), (row) => this.checkResult(row === null ? [] : [row]));
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    const { statement, trip } = this.record("run");
    return settle(trip, this.real.run<T>(), (result) => {
      recordMeta(statement, result);
      this.checkResult(result.results);
    });
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    const { statement, trip } = this.record("all");
    return settle(trip, this.real.all<T>(), (result) => {
      recordMeta(statement, result);
      this.checkResult(result.results);
    });
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    const { trip } = this.record("raw");
    return settle<[string[], ...T[]] | T[]>(trip, options?.columnNames ? this.real.raw<T>({ columnNames: true }) : this.real.raw<T>(), (rows) =>
      this.checkResult(rows),
    );
  }
}

function recordMeta(statement: StatementRecord, result: D1Result<unknown>): void {
  statement.rowsRead = result.meta.rows_read;
  statement.rowsWritten = result.meta.rows_written;
}

/** Records a broken limit and throws it, as D1 in production would refuse the statement. */
function violate(recorder: Recorder, message: string): never {
  recorder.violations.push(message);
  throw new Error(message);
}

/** Marks the round trip settled when the real call settles, passing its outcome through. */
async function settle<T>(trip: RoundTripRecord, promise: Promise<T>, onResult?: (result: T) => void): Promise<T> {
  try {
    const result = await promise;
    onResult?.(result);
    return result;
  } catch (error) {
    trip.failed = true;
    throw error;
  } finally {
    trip.settled = true;
  }
}

class CountingD1 implements D1Database {
  constructor(
    private readonly real: D1Database,
    private readonly recorder: Recorder,
    /** The binding's name: each round trip records which database it ran on. */
    private readonly binding: string,
  ) {}

  prepare(query: string): D1PreparedStatement {
    const problem = statementViolation(query, []);
    if (problem !== undefined) violate(this.recorder, `${problem}: ${describeSql(query)}`);
    return new CountingStatement(this.real.prepare(query), query, [], this.recorder, this.binding);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    const counted = statements.map((s) => {
      if (!(s instanceof CountingStatement)) throw new Error("batch() got a statement that was not prepared through the counting D1 proxy");
      if (s.binding !== this.binding) throw new Error(`batch() on ${this.binding} got a statement prepared on ${s.binding}`);
      return s;
    });
    const records: StatementRecord[] = counted.map((s) => ({ sql: s.sql, params: s.params }));
    const trip: RoundTripRecord = { kind: "batch", binding: this.binding, statements: records, settled: false, failed: false };
    this.recorder.roundTrips.push(trip);
    return settle(trip, this.real.batch<T>(counted.map((s) => s.real)), (results) =>
      results.forEach((result, i) => {
        const record = records[i];
        if (record) recordMeta(record, result);
        counted[i]?.checkResult(result.results);
      }),
    );
  }

  exec(query: string): Promise<D1ExecResult> {
    const trip: RoundTripRecord = { kind: "exec", binding: this.binding, statements: [{ sql: query, params: [] }], settled: false, failed: false };
    this.recorder.roundTrips.push(trip);
    return settle(trip, this.real.exec(query));
  }

  withSession(): D1DatabaseSession {
    throw new Error("counting D1 proxy: withSession() is not supported (the app does not use D1 sessions)");
  }

  dump(): Promise<ArrayBuffer> {
    throw new Error("counting D1 proxy: dump() is not supported");
  }
}

/** KV with every read counted; writes and lists pass through uncounted. */
function countingKv(real: KVNamespace, recorder: Recorder): KVNamespace {
  return new Proxy(real, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property !== "get" && property !== "getWithMetadata") return method.bind(target);
      return (...args: unknown[]): Promise<unknown> => {
        const [key] = args;
        const record: KvReadRecord = { key: Array.isArray(key) ? key.join(",") : String(key), settled: false };
        recorder.kvReads.push(record);
        return Promise.resolve(method.apply(target, args)).finally(() => {
          record.settled = true;
        });
      };
    },
  });
}

function countsOf(roundTrips: readonly RoundTripRecord[], kvReads: readonly KvReadRecord[]): Counts {
  const statements = roundTrips.flatMap((t) => t.statements);
  return {
    d1RoundTrips: roundTrips.length,
    statements: statements.length,
    maxParameters: Math.max(0, ...statements.map((s) => s.params.length)),
    kvReads: kvReads.length,
  };
}

/** Wraps every D1 binding (the directory `DB` and each shard TENANT_SHARDS names) and `env.TOKENS`; every other binding is passed through untouched. */
export function countingEnv(env: Cloudflare.Env): CountingEnv {
  const recorder: Recorder = { roundTrips: [], kvReads: [], violations: [] };
  const shards = Object.fromEntries(
    shardNames(env)
      .filter((name) => name !== DIRECTORY_BINDING)
      .map((name) => [name, new CountingD1(shardBinding(name, env), recorder, name)]),
  );
  const counted: Cloudflare.Env = {
    ...env,
    DB: new CountingD1(env.DB, recorder, "DB"),
    ...shards,
    TOKENS: countingKv(env.TOKENS, recorder),
  };
  return {
    env: counted,
    get counts() {
      return countsOf(recorder.roundTrips, recorder.kvReads);
    },
    get roundTrips() {
      return recorder.roundTrips;
    },
    get kvReads() {
      return recorder.kvReads;
    },
    get violations() {
      return recorder.violations;
    },
    reset() {
      recorder.roundTrips.length = 0;
      recorder.kvReads.length = 0;
      recorder.violations.length = 0;
    },
  };
}

let inFlight = false;

/**
 * Sends one request through the app's own fetch handler with the counting env, and splits
 * the counts at the response (see the file comment). One request at a time: the split relies
 * on no other request's work settling in between. Throws when a statement broke one of D1's
 * production limits or a D1/KV call was still unsettled after waitUntil (a floating promise).
 */
export async function send(counting: CountingEnv, request: Request): Promise<Sent> {
  if (inFlight) throw new Error("send(): one counted request at a time");
  inFlight = true;
  try {
    counting.reset();
    const ctx = createExecutionContext();
    const response = await worker.fetch(request, counting.env, ctx);
    for (const item of [...counting.roundTrips, ...counting.kvReads]) if (item.settled) item.phase = "response";
    await waitOnExecutionContext(ctx);
    const unsettled = [...counting.roundTrips, ...counting.kvReads].filter((item) => !item.settled);
    if (unsettled.length > 0) {
      throw new Error(`${request.method} ${request.url}: ${unsettled.length} D1/KV call(s) still running after waitUntil settled: a floating promise`);
    }
    for (const item of [...counting.roundTrips, ...counting.kvReads]) item.phase ??= "background";
    if (counting.violations.length > 0) throw new Error(counting.violations.join("\n"));
    const inPhase = <T extends { phase?: Phase }>(items: readonly T[], phase: Phase) => items.filter((i) => i.phase === phase);
    const split = (phase: Phase) => countsOf(inPhase(counting.roundTrips, phase), inPhase(counting.kvReads, phase));
    return {
      response,
      before: split("response"),
      after: split("background"),
      statements: inPhase(counting.roundTrips, "response").flatMap((t) => t.statements),
      backgroundStatements: inPhase(counting.roundTrips, "background").flatMap((t) => t.statements),
    };
  } finally {
    inFlight = false;
  }
}
