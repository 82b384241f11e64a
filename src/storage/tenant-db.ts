/**
 * Request-scoped access to one tenant's data that also proves, in the same D1 round trip,
 * that the caller's token is still the tenant's current one. KV only maps a token to a
 * tenant and is eventually consistent; D1 is the authority, so a rotated token fails at once.
 * - reads: the tenant row is selected in the same batch as the request's queries;
 * - writes: the batch starts with a guarded insert that aborts the whole transaction when
 *   the token is stale or provisioning is off (see `writeGuard` in schema.ts).
 */
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { eq, sql } from "drizzle-orm";
import { scimErrors } from "../scim/errors";
import { hashesEqual } from "../tenancy/tokens";
import type { Database } from "./database";
import { tenants, writeGuard } from "./schema";

/** Which SCIM resource a request touches; the tenant's sync settings gate each. */
export type SyncScope = "none" | "users" | "groups";

export interface TenantState {
  enabled: boolean;
  userSync: boolean;
  groupSync: boolean;
  linkExistingUsers: boolean;
  defaultRole: string | null;
  domainRestrictions: string[];
}

type Queries = readonly [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

const GUARD_FAILURE = /NOT NULL constraint failed: write_guard\.ok/;

function isGuardFailure(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (GUARD_FAILURE.test(e.message)) return true;
  }
  return false;
}

export class TenantDb {
  scope: SyncScope = "none";

  constructor(
    readonly db: Database,
    readonly tenantId: string,
    private readonly tokenHash: string,
  ) {}

  private checkQuery() {
    return this.db
      .select({
        tokenHash: tenants.tokenHash,
        enabled: tenants.enabled,
        userSync: tenants.userSync,
        groupSync: tenants.groupSync,
        linkExistingUsers: tenants.linkExistingUsers,
        defaultRole: tenants.defaultRole,
        domainRestrictions: tenants.domainRestrictions,
      })
      .from(tenants)
      .where(eq(tenants.id, this.tenantId));
  }

  private guardQuery() {
    const syncColumn = this.scope === "users" ? tenants.userSync : this.scope === "groups" ? tenants.groupSync : undefined;
    const syncCondition = syncColumn ? sql` AND ${syncColumn} = 1` : sql``;
    return this.db.run(
      sql`INSERT INTO ${writeGuard} (ok) SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM ${tenants} WHERE ${tenants.id} = ${this.tenantId} AND ${tenants.tokenHash} = ${this.tokenHash} AND ${tenants.enabled} = 1${syncCondition})`,
    );
  }

  /** Turns the tenant row into the request's verdict: 401 for a stale token, 403 when provisioning is off. */
  private accept(row: ({ tokenHash: string | null } & TenantState) | undefined): TenantState {
    if (!row?.tokenHash || !hashesEqual(row.tokenHash, this.tokenHash)) {
      throw scimErrors.unauthorized("The bearer token is not valid for this tenant (it may have been rotated).");
    }
    if (!row.enabled) {
      throw scimErrors.forbidden("SCIM provisioning is disabled for this tenant. Ask the application's administrator to enable it.");
    }
    if (this.scope === "users" && !row.userSync) {
      throw scimErrors.forbidden("User provisioning is turned off for this tenant.");
    }
    if (this.scope === "groups" && !row.groupSync) {
      throw scimErrors.forbidden("Group provisioning is turned off for this tenant.");
    }
    const { tokenHash: _ignored, ...state } = row;
    return state;
  }

  /** A standalone check, for requests that touch no tenant data. One round trip. */
  async verify(): Promise<TenantState> {
    return this.accept(await this.checkQuery().get());
  }

  /** Runs read queries and the token check in one round trip. */
  async read<T extends Queries>(queries: T): Promise<{ state: TenantState; results: BatchResponse<T> }> {
    const [check, ...results] = await this.db.batch([this.checkQuery(), ...queries]);
    const state = this.accept(check[0]);
    // The batch's tuple type cannot express "T after one more item"; the runtime shape is exactly T's.
    return { state, results: results as unknown as BatchResponse<T> };
  }

  /** Runs write queries as one transaction that aborts if the token is stale or sync is off. */
  async write<T extends Queries>(queries: T): Promise<BatchResponse<T>> {
    try {
      const [, ...results] = await this.db.batch([this.guardQuery(), ...queries]);
      return results as unknown as BatchResponse<T>;
    } catch (error) {
      if (isGuardFailure(error)) await this.verify(); // throws the precise 401/403
      throw error;
    }
  }
}
