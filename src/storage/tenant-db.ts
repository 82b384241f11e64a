/**
 * Request-scoped access to one tenant's data that also proves, in the same D1 round trip,
 * that the caller's token is still the tenant's current one. KV only maps a token to a
 * tenant and is eventually consistent; D1 is the authority, so a rotated token fails at once.
 * - reads: the tenant row is selected in the same batch as the request's queries;
 * - writes: the batch starts with a guarded insert that aborts the whole transaction when
 *   the token is stale or provisioning is off (see `writeGuard` in schema.ts).
 */
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { eq, type SQL, sql } from "drizzle-orm";
import { ScimError, scimErrors } from "../scim/errors";
import { hashesEqual } from "../tenancy/tokens";
import { authFailureCount, refused } from "./auth-failures";
import { type SuccessLogDraft, successLogInsert } from "./activity";
import type { Database } from "./database";
import { rememberPlacement } from "./shards";
import { tenants, writeGuard } from "./schema";

/** Which SCIM resource a request touches; the tenant's sync settings gate each. */
export type SyncScope = "none" | "users" | "groups";

type Queries = readonly [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

/** A write's precondition other than the token: it holds when `holds` is true. */
export interface Precondition {
  kind: "resourceCurrent" | "noAccountConflict" | "membersExist" | "rolesKnown" | "noCycle" | "nestingBounded";
  holds: SQL;
}

/** A write batch aborted because a precondition did not hold; nothing was written. */
export class PreconditionFailed extends Error {
  constructor(readonly kind: Precondition["kind"]) {
    super(`precondition ${kind} failed`);
    this.name = "PreconditionFailed";
  }
}

/** 403: the tenant turned provisioning of this resource type off (userSync / groupSync). */
export class SyncTurnedOff extends ScimError {
  constructor(detail: string) {
    super(403, detail);
  }
}

const GUARD_COLUMNS = {
  tokenCurrent: "token_current",
  resourceCurrent: "resource_current",
  noAccountConflict: "no_account_conflict",
  membersExist: "members_exist",
  rolesKnown: "roles_known",
  noCycle: "no_cycle",
  nestingBounded: "nesting_bounded",
} as const;
type GuardKind = keyof typeof GUARD_COLUMNS;

/** Matches `pattern` against an error's message and its causes' (drizzle wraps D1's errors). */
export function matchErrorChain(error: unknown, pattern: RegExp): RegExpExecArray | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const match = pattern.exec(e.message);
    if (match) return match;
  }
  return undefined;
}

function failedGuard(error: unknown): GuardKind | undefined {
  const column = matchErrorChain(error, /NOT NULL constraint failed: write_guard\.(\w+)/)?.[1];
  return (Object.keys(GUARD_COLUMNS) as GuardKind[]).find((k) => GUARD_COLUMNS[k] === column);
}

/** Whether a write batch failed because one of its guards (token or precondition) refused it. */
export function isGuardFailure(error: unknown): boolean {
  return failedGuard(error) !== undefined;
}

interface TenantCheckRow {
  shard: string;
  tokenHash: string | null;
  previousTokenHash: string | null;
  enabled: boolean;
  userSync: boolean;
  groupSync: boolean;
  authFailures: number;
}

/** A request's log row before the route has named the status its write's success answers. */
export type LogDraft = Omit<SuccessLogDraft, "status"> & { status?: number };

export class TenantDb {
  scope: SyncScope = "none";
  /**
   * Set once a tenant row accepted the token: how many failed authentications were stored
   * then. Non-zero means the request that authenticated should reset them.
   */
  storedAuthFailures: number | undefined;
  /**
   * This request's provisioning-log row (routes/scim/request-log.ts). Once the route names
   * its success status (logSuccessAs), the next write carries the row in its own batch, so a
   * successful write costs no second D1 round trip; a failed batch writes nothing, its row
   * included, and the failure is logged after the response as before.
   */
  log: LogDraft | undefined;
  /** The status of the log row a committed write of this request carried, if one did. */
  loggedStatus: number | undefined;

  constructor(
    /** The tenant's shard (storage/shards.ts): its data and the shard copy of its row. */
    readonly db: Database,
    readonly tenantId: string,
    private readonly tokenHash: string,
    /** The shard's binding name, handed to the tenant's Durable Object with the write. */
    readonly shard: string,
  ) {}

  private checkQuery() {
    return this.db
      .select({
        shard: tenants.shard,
        tokenHash: tenants.tokenHash,
        previousTokenHash: tenants.previousTokenHash,
        enabled: tenants.enabled,
        userSync: tenants.userSync,
        groupSync: tenants.groupSync,
        authFailures: authFailureCount,
      })
      .from(tenants)
      .where(eq(tenants.id, this.tenantId));
  }

  /** An insert into write_guard that aborts the batch (NULL in `kind`'s column) unless `holds`. */
  private guard(kind: GuardKind, holds: SQL) {
    const value = (k: GuardKind) => (k === kind ? sql<number>`NULL` : sql<number>`1`).as(GUARD_COLUMNS[k]);
    const row = {
      tokenCurrent: value("tokenCurrent"),
      resourceCurrent: value("resourceCurrent"),
      noAccountConflict: value("noAccountConflict"),
      membersExist: value("membersExist"),
      rolesKnown: value("rolesKnown"),
      noCycle: value("noCycle"),
      nestingBounded: value("nestingBounded"),
    };
    // (SELECT 1) is a one-row source: the guard row exists exactly when `holds` is false.
    return this.db.insert(writeGuard).select(this.db.select(row).from(sql`(SELECT 1)`).where(sql`NOT (${holds})`));
  }

  private tokenGuard() {
    const syncColumn = this.scope === "users" ? tenants.userSync : this.scope === "groups" ? tenants.groupSync : undefined;
    const syncCondition = syncColumn ? sql` AND ${syncColumn} = 1` : sql``;
    return this.guard(
      "tokenCurrent",
      // moving_to: a move is copying the tenant to another shard; its writes wait (migrations/0015).
      sql`EXISTS (SELECT 1 FROM ${tenants} WHERE ${tenants.id} = ${this.tenantId} AND ${tenants.tokenHash} = ${this.tokenHash} AND ${tenants.enabled} = 1 AND ${tenants.movingTo} IS NULL${syncCondition})`,
    );
  }

  private guards(preconditions: readonly Precondition[]): BatchItem<"sqlite">[] {
    return [this.tokenGuard(), ...preconditions.map((p) => this.guard(p.kind, p.holds))];
  }

  /** The status this request answers when its write commits: from now on a write logs it. */
  logSuccessAs(status: number): void {
    if (this.log) this.log.status = status;
  }

  /** The log row, when this request has one to commit with its write (at most once). */
  private logStatements(): { items: BatchItem<"sqlite">[]; committed: () => void } {
    const log = this.log;
    if (log?.status === undefined) return { items: [], committed: () => undefined };
    const status = log.status;
    return {
      items: [successLogInsert(this.db, this.tenantId, { ...log, status })],
      committed: () => {
        this.loggedStatus = status;
        this.log = undefined;
      },
    };
  }

  /** A write's statements behind its guards, to run with other writes in one batch (runTogether). */
  prepare(queries: readonly BatchItem<"sqlite">[], preconditions: readonly Precondition[] = []): PreparedWrite {
    const guards = this.guards(preconditions);
    const log = this.logStatements();
    return { items: [...guards, ...log.items, ...queries], leading: guards.length + log.items.length, committed: log.committed };
  }

  /** Turns the tenant row into the request's verdict: 401 for a stale token, 403 when provisioning is off. */
  private accept(row: TenantCheckRow | undefined): void {
    if (row && row.shard !== this.shard) {
      // A move left this copy behind (storage/tenant-move.ts): the retry goes to the new shard.
      rememberPlacement(this.tenantId, row.shard);
      throw new ScimError(503, "This tenant's data moved to another database; retry the request.", undefined, { "Retry-After": "1" });
    }
    if (!row?.tokenHash || !hashesEqual(row.tokenHash, this.tokenHash)) {
      const rotated = row?.previousTokenHash != null && hashesEqual(row.previousTokenHash, this.tokenHash);
      throw refused(rotated ? "rotated" : "unknown", "The bearer token is not valid for this tenant (it may have been rotated).");
    }
    if (!row.enabled) {
      throw refused("disabled", "SCIM provisioning is disabled for this tenant. Ask the application's administrator to enable it.");
    }
    this.storedAuthFailures = row.authFailures;
    if (this.scope === "users" && !row.userSync) {
      throw new SyncTurnedOff("User provisioning is turned off for this tenant.");
    }
    if (this.scope === "groups" && !row.groupSync) {
      throw new SyncTurnedOff("Group provisioning is turned off for this tenant.");
    }
  }

  /** What the tenant's Durable Object needs to write on this request's behalf, its log row included. */
  get auth(): { tenantId: string; tokenHash: string; shard: string; log: LogDraft | undefined } {
    return { tenantId: this.tenantId, tokenHash: this.tokenHash, shard: this.shard, log: this.log };
  }

  /** A standalone check, for requests that touch no tenant data. One round trip. */
  async verify(): Promise<void> {
    this.accept(await this.checkQuery().get());
  }

  /** Runs read queries and the token check in one round trip. */
  async read<T extends Queries>(queries: T): Promise<{ results: BatchResponse<T> }> {
    const [check, ...results] = await this.db.batch([this.checkQuery(), ...queries]);
    this.accept(check[0]);
    // The batch's tuple type cannot express "T after one more item"; the runtime shape is exactly T's.
    return { results: results as unknown as BatchResponse<T> };
  }

  /**
   * Runs write queries as one transaction that aborts, writing nothing, if the token is stale,
   * sync is off (→ the precise 401/403) or a precondition fails (→ PreconditionFailed).
   */
  async write<T extends Queries>(queries: T, preconditions: readonly Precondition[] = []): Promise<BatchResponse<T>> {
    const guards = this.guards(preconditions);
    const log = this.logStatements();
    try {
      const results = await this.db.batch([...guards, ...log.items, ...queries] as unknown as Queries);
      log.committed();
      // The first results belong to the guards and the log row; the runtime shape of the rest is exactly T's.
      return results.slice(guards.length + log.items.length) as unknown as BatchResponse<T>;
    } catch (error) {
      const kind = failedGuard(error);
      if (kind === "tokenCurrent") {
        await this.verify(); // throws the precise 401/403
        // The token holds, so the shard copy's moving_to refused it (migrations/0015): retry soon.
        throw new ScimError(503, "This tenant's data is being moved to another database; retry shortly.", undefined, { "Retry-After": "1" });
      }
      if (kind) throw new PreconditionFailed(kind);
      throw error;
    }
  }
}

/** One write's guards, log row and statements (TenantDb.prepare). */
export interface PreparedWrite {
  items: BatchItem<"sqlite">[];
  /** How many of `items` come before the write's own statements (its guards and log row). */
  leading: number;
  /** Called once the batch that carried the write has committed. */
  committed: () => void;
}

/**
 * Runs several writes as one transaction, in order: all apply, or none do (any guard or
 * statement failing aborts the batch; run the writes one at a time to learn which and why).
 * Returns each write's own statement results, guards and log rows left out.
 */
export async function runTogether(db: Database, writes: readonly PreparedWrite[]): Promise<unknown[][]> {
  const results: readonly unknown[] = await db.batch(writes.flatMap((w) => w.items) as unknown as Queries);
  for (const w of writes) w.committed();
  let at = 0;
  return writes.map((w) => {
    const own = results.slice(at + w.leading, at + w.items.length);
    at += w.items.length;
    return own;
  });
}

/**
 * What a failed "resource is current" precondition means to the client: the resource is gone
 * (404), its version moved past the one If-Match named (412), or, with no If-Match, other
 * writes kept winning the race (409: retry). Any other error passes through.
 */
export async function explainStaleWrite(
  error: unknown,
  what: "user" | "group",
  ifMatch: number | undefined,
  exists: () => Promise<boolean>,
): Promise<unknown> {
  if (!(error instanceof PreconditionFailed) || error.kind !== "resourceCurrent") return error;
  if (!(await exists())) return scimErrors.notFound(`No ${what} with this id in this tenant.`);
  if (ifMatch !== undefined) return scimErrors.preconditionFailed(`The ${what} was modified since the version in If-Match.`);
  return new ScimError(409, `The ${what} was modified concurrently; retry the request.`);
}
