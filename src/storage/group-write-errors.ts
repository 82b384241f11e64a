/**
 * What a failed group write tells the client: the guard or constraint that refused the batch,
 * as an RFC 7644 §3.12 error. Nothing was written when any of these is thrown.
 */
import { and, eq, inArray } from "drizzle-orm";
import { scimErrors } from "../scim/errors";
import { chunk, rowsPerStatement } from "./chunk";
import { MAX_NESTING_DEPTH, NESTING_WALK_ROWS } from "./group-nesting";
import { groups, users } from "./schema";
import { matchErrorChain, PreconditionFailed, type TenantDb } from "./tenant-db";

function isDisplayNameConflict(error: unknown): boolean {
  return matchErrorChain(error, /UNIQUE constraint failed: groups\.tenant_id, groups\.display_name_key/) !== undefined;
}

function translateWriteError(error: unknown): unknown {
  if (isDisplayNameConflict(error)) {
    return scimErrors.uniqueness("A group with this displayName already exists (displayName is case-insensitive).");
  }
  if (error instanceof PreconditionFailed && error.kind === "membersExist") {
    return scimErrors.invalidValue("Every member must be an existing user or group of this tenant; nothing was applied.");
  }
  if (error instanceof PreconditionFailed && error.kind === "noCycle") {
    return scimErrors.invalidValue("A group cannot be a member of itself or of a group it contains (directly or through nested groups); nothing was applied.");
  }
  if (error instanceof PreconditionFailed && error.kind === "nestingBounded") {
    return scimErrors.invalidValue(
      `Groups nest at most ${MAX_NESTING_DEPTH} levels deep (and a nesting check walks at most ${NESTING_WALK_ROWS} memberships); this membership would pass that; nothing was applied.`,
    );
  }
  if (error instanceof PreconditionFailed && error.kind === "noAccountConflict") {
    return scimErrors.uniqueness("The application already has a group with this displayName, and this tenant does not link existing groups.");
  }
  return error;
}

/** Names the first member id that is neither a user nor a group of this tenant, for a precise 400 detail. */
async function findUnknownMember(tdb: TenantDb, ids: string[]): Promise<string | undefined> {
  for (const part of chunk([...new Set(ids)], rowsPerStatement(1, 1))) {
    const { results } = await tdb.read([
      tdb.db.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tdb.tenantId), inArray(users.id, part))),
      tdb.db.select({ id: groups.id }).from(groups).where(and(eq(groups.tenantId, tdb.tenantId), inArray(groups.id, part))),
    ] as const);
    const known = new Set([...results[0], ...results[1]].map((r) => r.id));
    const unknown = part.find((id) => !known.has(id));
    if (unknown !== undefined) return unknown;
  }
  return undefined;
}

export async function explainMembers(tdb: TenantDb, error: unknown, ids: string[]): Promise<unknown> {
  const translated = translateWriteError(error);
  if (error instanceof PreconditionFailed && error.kind === "membersExist") {
    const unknown = await findUnknownMember(tdb, ids);
    if (unknown !== undefined) {
      return scimErrors.invalidValue(`Member '${unknown}' is not a user or group of this tenant; nothing was applied.`);
    }
  }
  return translated;
}

