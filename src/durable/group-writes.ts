/**
 * Group writes as the tenant's Durable Object runs them, one at a time: the PATCH read,
 * apply and write happen with no other group write of the tenant in between.
 */
import { scimErrors, unwrap } from "../scim/errors";
import { applyPatch, type PatchOperation } from "../scim/patch";
import { parseResource, type ScimDocument } from "../scim/schema";
import { deleteGroup, readGroup, type StoredGroup, updateGroup } from "../storage/groups";
import { PreconditionFailed, type TenantDb } from "../storage/tenant-db";

/** A failed existence/version precondition: 404 when the group is gone, else 412. */
async function explainPrecondition(tdb: TenantDb, error: unknown, id: string, expected: number | undefined): Promise<unknown> {
  if (!(error instanceof PreconditionFailed) || error.kind !== "resourceCurrent") return error;
  await readGroup(tdb, id, false); // throws 404 when gone
  return expected === undefined ? error : scimErrors.preconditionFailed("The group was modified since the version in If-Match.");
}

export async function replaceGroupWrite(
  tdb: TenantDb,
  id: string,
  doc: ScimDocument,
  memberIds: string[],
  expectedVersion: number | undefined,
): Promise<StoredGroup> {
  try {
    await updateGroup(tdb, { id, doc, members: { clear: true, add: [...new Set(memberIds)], remove: [] }, expectedVersion });
  } catch (error) {
    throw await explainPrecondition(tdb, error, id, expectedVersion);
  }
  return readGroup(tdb, id, true);
}

/** Returns the group afterwards only when the caller wants a body (`withResult`). */
export async function patchGroupWrite(
  tdb: TenantDb,
  id: string,
  operations: PatchOperation[],
  expectedVersion: number | undefined,
  withResult: { includeMembers: boolean } | undefined,
): Promise<StoredGroup | undefined> {
  const current = await readGroup(tdb, id, false);
  if (expectedVersion !== undefined && expectedVersion !== current.version) {
    throw scimErrors.preconditionFailed(`If-Match does not match the current version W/"${current.version}".`);
  }
  const outcome = unwrap(applyPatch("Group", current.doc, operations, id));
  const { clear, add, remove } = outcome.members;
  const membersChange = clear || add.length > 0 || remove.length > 0;
  if (outcome.changed || membersChange) {
    // The patched document must still be a valid Group (displayName cannot be removed).
    const doc = outcome.changed ? unwrap(parseResource("Group", outcome.doc)) : undefined;
    await updateGroup(tdb, { id, ...(doc ? { doc } : {}), members: outcome.members, expectedVersion: current.version });
  }
  return withResult ? readGroup(tdb, id, withResult.includeMembers) : undefined;
}

export async function deleteGroupWrite(tdb: TenantDb, id: string, expectedVersion: number | undefined): Promise<void> {
  try {
    await deleteGroup(tdb, id, expectedVersion);
  } catch (error) {
    throw await explainPrecondition(tdb, error, id, expectedVersion);
  }
}
