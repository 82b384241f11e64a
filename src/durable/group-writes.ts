/**
 * Group writes as the tenant's Durable Object runs them, one at a time: the PATCH read,
 * apply and write happen with no other group write of the tenant in between. Members-only
 * PATCHes waiting in the queue together may share one batch (patchMembersTogether).
 */
import { unwrap } from "../scim/errors";
import { applyPatch, type MemberChanges, memberOnlyPatch, type PatchOperation } from "../scim/patch";
import { requireVersion } from "../scim/resource";
import { parseResource, type ScimDocument } from "../scim/schema";
import { groupExists, readGroup, type StoredGroup } from "../storage/group-reads";
import { changesMembers, deleteGroup, updateGroup, updateGroupsTogether } from "../storage/groups";
import { explainStaleWrite, PreconditionFailed, type TenantDb } from "../storage/tenant-db";

/** A group write whose precondition failed: 404, 412 or 409 (see explainStaleWrite). */
function explainPrecondition(tdb: TenantDb, error: unknown, id: string, ifMatch: number | undefined): Promise<unknown> {
  return explainStaleWrite(error, "group", ifMatch, () => groupExists(tdb, id));
}

export async function replaceGroupWrite(
  tdb: TenantDb,
  id: string,
  doc: ScimDocument,
  members: MemberChanges,
  expectedVersion: number | undefined,
): Promise<StoredGroup> {
  try {
    return await updateGroup(tdb, { id, doc, members, expectedVersion }, { includeMembers: true });
  } catch (error) {
    throw await explainPrecondition(tdb, error, id, expectedVersion);
  }
}

type WithResult = { includeMembers: boolean } | undefined;

/** A PATCH that names only members (Entra's): it needs nothing of the stored group. */
export interface MemberPatch {
  tdb: TenantDb;
  id: string;
  members: MemberChanges;
  expectedVersion: number | undefined;
  withResult: WithResult;
}

/** The PATCH as a MemberPatch when it names only members and changes some; throws its 400s. */
export function memberPatchOf(
  tdb: TenantDb,
  id: string,
  operations: PatchOperation[],
  expectedVersion: number | undefined,
  withResult: WithResult,
): MemberPatch | undefined {
  const memberOnly = memberOnlyPatch(operations);
  if (!memberOnly) return undefined;
  const members = unwrap(memberOnly);
  return changesMembers(members) ? { tdb, id, members, expectedVersion, withResult } : undefined;
}

/** Re-reads for a PATCH whose group changed between its read and its write (see below). */
const PATCH_ATTEMPTS = 3;

/**
 * A PATCH that reads the group first (it touches the document; members-only PATCHes go
 * through patchMembers). Returns the group afterwards only when the caller wants a body.
 * Group writes are serialized here, but deleting a user bumps the version of its groups from
 * the Worker (storage/users.ts deleteUser), so the write can still find a newer version:
 * without If-Match, the PATCH re-reads and applies again.
 */
export async function patchGroupWrite(
  tdb: TenantDb,
  id: string,
  operations: PatchOperation[],
  expectedVersion: number | undefined,
  withResult: WithResult,
): Promise<StoredGroup | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await patchGroupOnce(tdb, id, operations, expectedVersion, withResult);
    } catch (error) {
      const raced = error instanceof PreconditionFailed && error.kind === "resourceCurrent" && expectedVersion === undefined;
      if (!raced || attempt >= PATCH_ATTEMPTS) throw await explainPrecondition(tdb, error, id, expectedVersion);
    }
  }
}

async function patchGroupOnce(
  tdb: TenantDb,
  id: string,
  operations: PatchOperation[],
  expectedVersion: number | undefined,
  withResult: WithResult,
): Promise<StoredGroup | undefined> {
  const current = await readGroup(tdb, id, false);
  requireVersion(expectedVersion, current.version);
  const outcome = unwrap(applyPatch("Group", current.doc, operations, id));
  if (!outcome.changed && !changesMembers(outcome.members)) {
    // A no-op: the group as read is the answer, unless its members are wanted too.
    if (!withResult) return undefined;
    return withResult.includeMembers ? readGroup(tdb, id, true) : current;
  }
  // The patched document must still be a valid Group (displayName cannot be removed).
  const doc = outcome.changed ? unwrap(parseResource("Group", outcome.doc)) : undefined;
  const update = { id, ...(doc ? { doc } : {}), members: outcome.members, expectedVersion: current.version };
  if (!withResult) {
    await updateGroup(tdb, update);
    return undefined;
  }
  return updateGroup(tdb, update, withResult);
}

/**
 * A members-only PATCH in one write, with no read first: the group's existence and If-Match
 * version are guards of the write itself.
 */
export async function patchMembers({ tdb, id, members, expectedVersion, withResult }: MemberPatch): Promise<StoredGroup | undefined> {
  const update = { id, members, expectedVersion };
  try {
    if (withResult) return await updateGroup(tdb, update, withResult);
    await updateGroup(tdb, update);
    return undefined;
  } catch (error) {
    throw await explainPrecondition(tdb, error, id, expectedVersion);
  }
}

/**
 * Members-only PATCHes applied in one D1 batch, in their order, each behind its own guards.
 * `applied: false` when the batch failed (a stale token, a missing group or an unknown member
 * in any of them): nothing was written, and each PATCH run alone gets its own answer.
 */
export function patchMembersTogether(patches: readonly MemberPatch[]): ReturnType<typeof updateGroupsTogether> {
  return updateGroupsTogether(
    patches.map(({ tdb, id, members, expectedVersion, withResult }) => ({
      tdb,
      update: { id, members, expectedVersion },
      ...(withResult ? { readBack: withResult } : {}),
    })),
  );
}

export async function deleteGroupWrite(tdb: TenantDb, id: string, expectedVersion: number | undefined): Promise<void> {
  try {
    await deleteGroup(tdb, id, expectedVersion);
  } catch (error) {
    throw await explainPrecondition(tdb, error, id, expectedVersion);
  }
}
