/**
 * A user PATCH (RFC 7644 §3.5.2): read the user, apply the operations, write it back only if
 * its version is still the one read. The Worker makes the first attempt itself (two D1 round
 * trips, the common case: IdPs rarely write one user twice at once). When another write got
 * in between, the PATCH moves to the tenant's Durable Object, which runs the PATCHes of one
 * user one after another on a queue of that user's own (TenantCoordinator.patchUser), so a
 * burst of PATCHes of one user all succeed instead of exhausting optimistic retries and
 * answering 409 (Entra logs a 409 and retries only next cycle, 40 minutes later).
 *
 * Why not serialise every PATCH: the hop to the Durable Object costs every PATCH a round trip
 * and funnels the tenant's user writes through one object, to fix a case that needs it only
 * on contention. Why not retry with jitter in the Worker: with n writers a retry can lose
 * n - 1 times, so no fixed bound makes 24 concurrent PATCHes all succeed.
 */
import { ScimError, scimErrors, unwrap } from "../scim/errors";
import { applyPatch, type PatchOperation } from "../scim/patch";
import { requireVersion } from "../scim/resource";
import { parseResource } from "../scim/schema";
import { checkDocumentSize } from "../storage/document-size";
import { explainStaleWrite, PreconditionFailed, type TenantDb } from "../storage/tenant-db";
import { replaceUser, selectUserQuery, type StoredUser, toStoredUser, userExists } from "../storage/users";

/** The PATCH's attempt lost a race: another write changed the user between its read and write. */
export class PatchRaced extends Error {
  constructor() {
    super("the user changed between the PATCH's read and its write");
    this.name = "PatchRaced";
  }
}

async function readUser(tdb: TenantDb, id: string): Promise<StoredUser | undefined> {
  const { results } = await tdb.read([selectUserQuery(tdb.db, tdb.tenantId, id, true)] as const);
  const row = results[0][0];
  return row ? toStoredUser(row) : undefined;
}

/**
 * One attempt: read, apply, write behind a version check. Throws PatchRaced when the version
 * moved (and the client sent no If-Match: with one, the 412 is the answer), SCIM errors
 * otherwise (404, 412, the PATCH's own 400s).
 */
export async function patchUserOnce(tdb: TenantDb, id: string, operations: PatchOperation[], ifMatch: number | undefined): Promise<StoredUser> {
  const current = await readUser(tdb, id);
  if (!current) throw scimErrors.notFound("No user with this id in this tenant.");
  requireVersion(ifMatch, current.version);
  const outcome = unwrap(applyPatch("User", current.doc, operations, id));
  if (!outcome.changed) return current;
  // The patched document must still be a valid User (e.g. userName cannot be removed).
  const doc = unwrap(parseResource("User", outcome.doc));
  // PATCH adds can grow a document past the body cap, one request at a time.
  checkDocumentSize(doc);
  try {
    return await replaceUser(tdb, { id, doc, expectedVersion: current.version, eventType: "user.patched" }, true);
  } catch (error) {
    if (error instanceof PreconditionFailed && error.kind === "resourceCurrent" && ifMatch === undefined) {
      if (await userExists(tdb, id)) throw new PatchRaced();
    }
    throw await explainStaleWrite(error, "user", ifMatch, () => userExists(tdb, id));
  }
}

/**
 * Attempts inside the Durable Object's per-user queue. PATCHes of this user queued there never
 * race each other; only writes that bypass the queue can (a PUT, a DELETE, a PATCH's first
 * attempt in a Worker), and each of those wins at most once per attempt.
 */
export const QUEUED_PATCH_ATTEMPTS = 8;

export async function patchUserQueued(tdb: TenantDb, id: string, operations: PatchOperation[]): Promise<StoredUser> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await patchUserOnce(tdb, id, operations, undefined);
    } catch (error) {
      if (!(error instanceof PatchRaced) || attempt >= QUEUED_PATCH_ATTEMPTS) {
        throw error instanceof PatchRaced ? new ScimError(409, "The user was modified concurrently; retry the request.") : error;
      }
    }
  }
}
