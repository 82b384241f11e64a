/**
 * Failed SCIM authentications, per tenant named in the URL: what the operator reads when an
 * IdP's Test Connection fails. Aggregates only (count, first and last time, last reason, last
 * user agent): never a token, a hash or a client address.
 */
import { eq, sql } from "drizzle-orm";
import { ScimError, scimErrors } from "../scim/errors";
import type { Database } from "./database";
import { authFailures, tenants } from "./schema";

export type AuthFailureReason = (typeof authFailures.$inferSelect)["lastReason"];

/**
 * A refused authentication and why. It answers like any SCIM error (401, or 403 for a disabled
 * tenant); the reason is for the operator's aggregates, never shown to the client.
 */
export class AuthenticationRefused extends ScimError {
  constructor(
    readonly reason: AuthFailureReason,
    error: ScimError,
  ) {
    super(error.status, error.message, error.scimType, error.headers);
    this.name = "AuthenticationRefused";
  }
}

export function refused(reason: AuthFailureReason, detail: string): AuthenticationRefused {
  return new AuthenticationRefused(reason, reason === "disabled" ? scimErrors.forbidden(detail) : scimErrors.unauthorized(detail));
}

/** Failures accumulated since the last write, to add to the stored aggregate. */
export interface AuthFailureDelta {
  tenantId: string;
  count: number;
  firstAt: string;
  lastAt: string;
  reason: AuthFailureReason;
  userAgent: string | null;
}

export interface AuthFailureSummary {
  count: number;
  firstAt: string | null;
  lastAt: string | null;
  lastReason: AuthFailureReason | null;
  lastUserAgent: string | null;
}

export const NO_AUTH_FAILURES: AuthFailureSummary = { count: 0, firstAt: null, lastAt: null, lastReason: null, lastUserAgent: null };

/**
 * One UPSERT per tenant, all in one round trip. The row comes from `tenants`, so a tenant id
 * that does not exist (or was deleted meanwhile) records nothing.
 */
export async function addAuthFailures(db: Database, deltas: readonly AuthFailureDelta[]): Promise<void> {
  const [first, ...rest] = deltas.map((d) =>
    db
      .insert(authFailures)
      .select(
        db
          .select({
            tenantId: tenants.id,
            // D1 binds JS numbers as REAL; the count is an integer.
            count: sql<number>`CAST(${d.count} AS INTEGER)`.as("count"),
            firstAt: sql<string>`${d.firstAt}`.as("first_at"),
            lastAt: sql<string>`${d.lastAt}`.as("last_at"),
            lastReason: sql<AuthFailureReason>`${d.reason}`.as("last_reason"),
            lastUserAgent: sql<string | null>`${d.userAgent}`.as("last_user_agent"),
          })
          .from(tenants)
          .where(eq(tenants.id, d.tenantId)),
      )
      .onConflictDoUpdate({
        target: authFailures.tenantId,
        set: {
          count: sql`${authFailures.count} + excluded.count`,
          lastAt: sql`excluded.last_at`,
          lastReason: sql`excluded.last_reason`,
          lastUserAgent: sql`excluded.last_user_agent`,
        },
      }),
  );
  if (!first) return;
  await db.batch([first, ...rest]);
}

/** Forgets the tenant's failures: a request authenticated, so the IdP's setup works again. */
export function clearAuthFailures(db: Database, tenantId: string) {
  return db.delete(authFailures).where(eq(authFailures.tenantId, tenantId));
}

/**
 * The stored count of a selected tenant row, as a scalar subquery (a primary-key lookup): the
 * token check reads it in its own statement, so knowing whether to reset costs no round trip.
 */
export const authFailureCount = sql<number>`coalesce((SELECT ${authFailures.count} FROM ${authFailures} WHERE ${authFailures.tenantId} = ${tenants.id}), 0)`;

export async function findAuthFailures(db: Database, tenantId: string): Promise<AuthFailureSummary> {
  return authFailureSummary(await db.select().from(authFailures).where(eq(authFailures.tenantId, tenantId)).get());
}

export function authFailureSummary(row: typeof authFailures.$inferSelect | undefined): AuthFailureSummary {
  if (!row) return NO_AUTH_FAILURES;
  return { count: row.count, firstAt: row.firstAt, lastAt: row.lastAt, lastReason: row.lastReason, lastUserAgent: row.lastUserAgent };
}
