/**
 * A tenant's provisioning health, from its newest provisioning-log rows (writes and failures;
 * successful reads are not logged) and the token's "last used":
 * - `failing` when most of the recent logged requests failed (at least 3 of them): the state in
 *   which Entra quarantines a provisioning job and the IdP stops retrying;
 * - `idle` when no IdP called for longer than IDLE_AFTER_MS (3 of Entra's ~40-minute cycles);
 * - `healthy` otherwise.
 * Computed when read: no state is stored.
 */
import type { RecentRequest } from "../storage/tenants";

export const IDLE_AFTER_MS = 2 * 3_600_000;
const MIN_FOR_FAILING = 3;

export interface TenantHealth {
  status: "healthy" | "failing" | "idle";
  /** Since when the status holds, as far as the window shows (null: no activity ever). */
  since: string | null;
  recentRequests: number;
  recentFailures: number;
  lastError: { at: string; status: number; scimType: string | null; detail: string | null } | null;
}

const failed = (r: RecentRequest) => r.status >= 400;

/** `recent` is newest first. */
export function tenantHealth(recent: readonly RecentRequest[], tokenLastUsedAt: string | null, nowMs: number): TenantHealth {
  const failures = recent.filter(failed);
  const lastError = failures[0] ?? null;
  const latest = [tokenLastUsedAt, recent[0]?.at].filter((at): at is string => typeof at === "string").sort().at(-1) ?? null;
  const base = { recentRequests: recent.length, recentFailures: failures.length, lastError };
  if (latest === null || nowMs - Date.parse(latest) > IDLE_AFTER_MS) return { status: "idle", since: latest, ...base };
  const isFailing = recent.length >= MIN_FOR_FAILING && failures.length * 2 > recent.length;
  // The oldest row of the newest run of rows that agree with the status (all failures, or no failure).
  let since: string | null = null;
  for (const row of recent) {
    if (failed(row) !== isFailing) break;
    since = row.at;
  }
  // Healthy with a failure on top: healthy throughout the window shown.
  return { status: isFailing ? "failing" : "healthy", since: since ?? recent.at(-1)?.at ?? latest, ...base };
}
