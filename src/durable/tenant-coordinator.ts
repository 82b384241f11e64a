/**
 * One Durable Object per tenant serializes the tenant's group writes. A D1 call from inside
 * a Durable Object does not hold its input gate, so other calls could interleave at every
 * await: an explicit promise queue runs each write to completion before the next starts.
 *
 * Members-only PATCHes (Entra's adds and removes) that wait in the queue one after another
 * are coalesced: they run as one D1 batch, in their order, so a burst costs one round trip
 * instead of one each. If that batch fails, nothing was written, and each runs alone to get
 * its own answer (one unknown member must not fail its neighbours).
 *
 * Each write carries the request's provisioning-log row into its own batch (WriteAuth.log),
 * one row per PATCH in a coalesced batch too, and tells the Worker it did (`loggedStatus`).
 *
 * User PATCHes that lost an optimistic race in the Worker come here too (see user-patch.ts):
 * each user has a queue of its own, so PATCHes of one user run one after another while
 * PATCHes of other users, and group writes, do not wait for them.
 */
import { DurableObject } from "cloudflare:workers";
import { ScimError, type ScimType } from "../scim/errors";
import type { PatchOperation } from "../scim/patch";
import type { ScimDocument } from "../scim/schema";
import { type AuthFailureReason, AuthenticationRefused } from "../storage/auth-failures";
import { directoryDb, rememberPlacement, shardDb } from "../storage/shards";
import { type MoveReport, moveTenantData } from "../storage/tenant-move";
import { isGuardFailure, type LogDraft, TenantDb } from "../storage/tenant-db";
import type { StoredGroup } from "../storage/group-reads";
import { createGroup } from "../storage/groups";
import type { StoredUser } from "../storage/users";
import { patchUserQueued } from "./user-patch";
import { deleteGroupWrite, type MemberPatch, memberPatchOf, patchGroupWrite, patchMembers, patchMembersTogether, replaceGroupWrite } from "./group-writes";

/** Who is writing: the tenant and the token hash the Worker authenticated, and the request's log row. */
export interface WriteAuth {
  tenantId: string;
  tokenHash: string;
  /** The tenant's shard (storage/shards.ts), as the Worker resolved it. */
  shard: string;
  log: LogDraft | undefined;
}

/**
 * RPC carries plain data: SCIM errors travel as values and are rebuilt by the Worker.
 * `loggedStatus` is set when the write's batch carried the request's log row.
 */
export type Outcome<T> =
  | { ok: true; value: T; loggedStatus?: number }
  | {
      ok: false;
      error: { status: number; scimType?: ScimType; detail: string; headers: Record<string, string>; authFailure?: AuthFailureReason };
    };

/** A SCIM error as an Outcome; anything else is rethrown (the Worker answers 500). */
function failure(error: unknown): Outcome<never> {
  if (!(error instanceof ScimError)) throw error;
  return {
    ok: false,
    error: {
      status: error.status,
      detail: error.message,
      headers: error.headers,
      ...(error.scimType ? { scimType: error.scimType } : {}),
      // The Worker records why a token was refused (the operator's failed-authentication aggregates).
      ...(error instanceof AuthenticationRefused ? { authFailure: error.reason } : {}),
    },
  };
}

async function capture<T>(tdb: TenantDb, task: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return succeeded(tdb, await task());
  } catch (error) {
    return failure(error);
  }
}

function succeeded<T>(tdb: TenantDb, value: T): Outcome<T> {
  return tdb.loggedStatus === undefined ? { ok: true, value } : { ok: true, value, loggedStatus: tdb.loggedStatus };
}

export function unwrapOutcome<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  const { status, detail, scimType, headers, authFailure } = outcome.error;
  const error = new ScimError(status, detail, scimType, headers);
  throw authFailure ? new AuthenticationRefused(authFailure, error) : error;
}

// At most this many PATCHes share a batch, naming at most this many members in all, so a
// batch stays in the low hundreds of statements.
const COALESCE_MAX_PATCHES = 32;
const COALESCE_MAX_MEMBERS = 200;

interface QueuedMemberPatch {
  patch: MemberPatch;
  resolve(outcome: Outcome<StoredGroup | undefined>): void;
  reject(error: unknown): void;
}

function named(patch: MemberPatch): number {
  return patch.members.add.length + patch.members.remove.length;
}

/**
 * Applies queued members-only PATCHes together, or one by one when the batch fails. Settles
 * every entry whatever happens (settling twice is a no-op), so no caller waits forever.
 */
async function applyMemberPatches(queued: readonly QueuedMemberPatch[]): Promise<void> {
  try {
    if (queued.length > 1) {
      const together = await patchMembersTogether(queued.map((q) => q.patch));
      if (together.applied) {
        queued.forEach((q, i) => q.resolve(succeeded(q.patch.tdb, together.groups[i])));
        return;
      }
      // Expected when one of them is refused (its guard names why); anything else is worth seeing.
      if (!isGuardFailure(together.error)) {
        const reason = together.error instanceof Error ? together.error.message : String(together.error);
        console.warn(`coalesced group batch failed, applying one at a time: ${reason}`);
      }
    }
    for (const q of queued) {
      try {
        q.resolve(await capture(q.patch.tdb, () => patchMembers(q.patch)));
      } catch (error) {
        q.reject(error);
      }
    }
  } catch (error) {
    for (const q of queued) q.reject(error);
  }
}

export class TenantCoordinator extends DurableObject<Cloudflare.Env> {
  private queue: Promise<unknown> = Promise.resolve();
  /** Members-only PATCHes at the tail of the queue, not started yet: later ones may join. */
  private gathering: { entries: QueuedMemberPatch[]; named: number } | undefined;
  /** The tail of each user's PATCH queue; an entry is dropped once its queue runs empty. */
  private userQueues = new Map<string, Promise<unknown>>();

  /** Runs `task` after every write queued before it; a failure does not stall the queue. */
  private serialized<T>(tdb: TenantDb, task: () => Promise<T>): Promise<Outcome<T>> {
    // Nothing queued after this task may join a batch queued before it.
    this.gathering = undefined;
    const run = this.queue.then(() => capture(tdb, task));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `task` after every PATCH of the same user queued before it. */
  private serializedForUser<T>(tdb: TenantDb, userId: string, task: () => Promise<T>): Promise<Outcome<T>> {
    const run = (this.userQueues.get(userId) ?? Promise.resolve()).then(() => capture(tdb, task));
    const tail = run.catch(() => undefined);
    this.userQueues.set(userId, tail);
    void tail.then(() => {
      if (this.userQueues.get(userId) === tail) this.userQueues.delete(userId);
    });
    return run;
  }

  /** Queues a members-only PATCH, joining the batch at the tail of the queue when there is one. */
  private queueMemberPatch(patch: MemberPatch): Promise<Outcome<StoredGroup | undefined>> {
    return new Promise((resolve, reject) => {
      const entry = { patch, resolve, reject };
      const open = this.gathering;
      if (open && open.entries.length < COALESCE_MAX_PATCHES && open.named + named(patch) <= COALESCE_MAX_MEMBERS) {
        open.entries.push(entry);
        open.named += named(patch);
        return;
      }
      const batch = { entries: [entry], named: named(patch) };
      this.gathering = batch;
      this.queue = this.queue.then(() => {
        if (this.gathering === batch) this.gathering = undefined;
        return applyMemberPatches(batch.entries);
      });
    });
  }

  private tenantDb(auth: WriteAuth): TenantDb {
    const tdb = new TenantDb(shardDb(this.env, auth.shard), auth.tenantId, auth.tokenHash, auth.shard);
    tdb.scope = "groups";
    tdb.log = auth.log;
    return tdb;
  }

  async createGroup(auth: WriteAuth, doc: ScimDocument, memberIds: string[], displays?: Map<string, string>): Promise<Outcome<StoredGroup>> {
    const tdb = this.tenantDb(auth);
    return this.serialized(tdb, () => createGroup(tdb, doc, memberIds, displays));
  }

  async replaceGroup(
    auth: WriteAuth,
    id: string,
    doc: ScimDocument,
    memberIds: string[],
    displays: Map<string, string> | undefined,
    expectedVersion: number | undefined,
  ): Promise<Outcome<StoredGroup>> {
    const tdb = this.tenantDb(auth);
    return this.serialized(tdb, () => replaceGroupWrite(tdb, id, doc, { clear: true, add: memberIds, remove: [], ...(displays ? { displays } : {}) }, expectedVersion));
  }

  async patchGroup(
    auth: WriteAuth,
    id: string,
    operations: PatchOperation[],
    expectedVersion: number | undefined,
    withResult: { includeMembers: boolean } | undefined,
  ): Promise<Outcome<StoredGroup | undefined>> {
    const tdb = this.tenantDb(auth);
    // Decided synchronously, so the PATCH takes its place in the queue as it arrives.
    let memberPatch: MemberPatch | undefined;
    try {
      memberPatch = memberPatchOf(tdb, id, operations, expectedVersion, withResult);
    } catch (error) {
      return failure(error);
    }
    if (!memberPatch) return this.serialized(tdb, () => patchGroupWrite(tdb, id, operations, expectedVersion, withResult));
    if (named(memberPatch) <= COALESCE_MAX_MEMBERS) return this.queueMemberPatch(memberPatch);
    return this.serialized(tdb, () => patchMembers(memberPatch));
  }

  /** A user PATCH without If-Match whose first attempt raced (routes/scim/users.ts). */
  async patchUser(auth: WriteAuth, id: string, operations: PatchOperation[]): Promise<Outcome<StoredUser>> {
    const tdb = new TenantDb(shardDb(this.env, auth.shard), auth.tenantId, auth.tokenHash, auth.shard);
    tdb.scope = "users";
    tdb.log = auth.log;
    return this.serializedForUser(tdb, id, () => patchUserQueued(tdb, id, operations));
  }

  /**
   * Moves the tenant's data to shard `to` (storage/tenant-move.ts) on the group-write queue, so
   * group writes wait behind it; user writes meanwhile are refused by the old copy's guard (503).
   * `beforeWrite` is for tests (a failure injected mid-copy).
   */
  async moveTenant(tenantId: string, from: string, to: string): Promise<MoveReport> {
    this.gathering = undefined;
    const run = this.queue.then(async () => {
      const report = await moveTenantData(
        { directory: directoryDb(this.env), from: { name: from, db: shardDb(this.env, from) }, to: { name: to, db: shardDb(this.env, to) } },
        tenantId,
        () => this.beforeMoveWrite(),
      );
      rememberPlacement(tenantId, to);
      return report;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A hook the tests replace to hold or fail a move between its writes. */
  beforeMoveWrite(): Promise<void> {
    return Promise.resolve();
  }

  async deleteGroup(auth: WriteAuth, id: string, expectedVersion: number | undefined): Promise<Outcome<null>> {
    const tdb = this.tenantDb(auth);
    return this.serialized(tdb, async () => {
      await deleteGroupWrite(tdb, id, expectedVersion);
      return null;
    });
  }
}
