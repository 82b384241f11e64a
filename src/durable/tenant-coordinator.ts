/**
 * One Durable Object per tenant serializes the tenant's group writes. A D1 call from inside
 * a Durable Object does not hold its input gate, so other calls could interleave at every
 * await: an explicit promise queue runs each write to completion before the next starts.
 */
import { DurableObject } from "cloudflare:workers";
import { ScimError, type ScimType } from "../scim/errors";
import type { PatchOperation } from "../scim/patch";
import type { ScimDocument } from "../scim/schema";
import { database } from "../storage/database";
import { TenantDb } from "../storage/tenant-db";
import { createGroup, type StoredGroup } from "../storage/groups";
import { deleteGroupWrite, patchGroupWrite, replaceGroupWrite } from "./group-writes";

/** Who is writing: the tenant and the token hash the Worker authenticated. */
export interface WriteAuth {
  tenantId: string;
  tokenHash: string;
}

/** RPC carries plain data: SCIM errors travel as values and are rebuilt by the Worker. */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; error: { status: number; scimType?: ScimType; detail: string; headers: Record<string, string> } };

async function capture<T>(task: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await task() };
  } catch (error) {
    if (!(error instanceof ScimError)) throw error;
    return {
      ok: false,
      error: { status: error.status, detail: error.message, headers: error.headers, ...(error.scimType ? { scimType: error.scimType } : {}) },
    };
  }
}

export function unwrapOutcome<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  const { status, detail, scimType, headers } = outcome.error;
  throw new ScimError(status, detail, scimType, headers);
}

export class TenantCoordinator extends DurableObject<Cloudflare.Env> {
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every write queued before it; a failure does not stall the queue. */
  private serialized<T>(task: () => Promise<T>): Promise<Outcome<T>> {
    const run = this.queue.then(() => capture(task));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private tenantDb(auth: WriteAuth): TenantDb {
    const tdb = new TenantDb(database(this.env.DB), auth.tenantId, auth.tokenHash);
    tdb.scope = "groups";
    return tdb;
  }

  async createGroup(auth: WriteAuth, doc: ScimDocument, memberIds: string[]): Promise<Outcome<StoredGroup>> {
    return this.serialized(() => createGroup(this.tenantDb(auth), doc, memberIds));
  }

  async replaceGroup(
    auth: WriteAuth,
    id: string,
    doc: ScimDocument,
    memberIds: string[],
    expectedVersion: number | undefined,
  ): Promise<Outcome<StoredGroup>> {
    return this.serialized(() => replaceGroupWrite(this.tenantDb(auth), id, doc, memberIds, expectedVersion));
  }

  async patchGroup(
    auth: WriteAuth,
    id: string,
    operations: PatchOperation[],
    expectedVersion: number | undefined,
    withResult: { includeMembers: boolean } | undefined,
  ): Promise<Outcome<StoredGroup | undefined>> {
    return this.serialized(() => patchGroupWrite(this.tenantDb(auth), id, operations, expectedVersion, withResult));
  }

  async deleteGroup(auth: WriteAuth, id: string, expectedVersion: number | undefined): Promise<Outcome<null>> {
    return this.serialized(async () => {
      await deleteGroupWrite(this.tenantDb(auth), id, expectedVersion);
      return null;
    });
  }
}
