/**
 * When a failed delivery is tried again: WEBHOOK_RETRY_SCHEDULE lists the delay before each
 * retry in seconds (wrangler.toml: 1 min, 5 min, 30 min, 2 h, 5 h, then 10 h six times), so a
 * delivery gets 1 + 11 attempts over about three days (67.6 hours), as WorkOS retries for. Each delay gets ±10 % jitter, so the retries of
 * many deliveries that failed together (a receiver's outage) do not arrive together. Tests set
 * the var to zeros to run the whole schedule at once.
 */
export const DEFAULT_RETRY_SCHEDULE = [60, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 36_000, 36_000, 36_000, 36_000] as const;
/** Cloudflare Queues delays a retry by at most 12 hours. */
export const MAX_RETRY_DELAY_SECONDS = 43_200;
const MAX_RETRIES = 20;

export function retrySchedule(value: string | undefined): readonly number[] {
  if (value === undefined || value.trim() === "") return DEFAULT_RETRY_SCHEDULE;
  const delays = value.split(",").map((part) => Number(part.trim()));
  if (delays.length <= MAX_RETRIES && delays.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_RETRY_DELAY_SECONDS)) return delays;
  console.warn(`WEBHOOK_RETRY_SCHEDULE=${JSON.stringify(value)} is not up to ${MAX_RETRIES} comma-separated whole seconds in [0, ${MAX_RETRY_DELAY_SECONDS}]; using the default`);
  return DEFAULT_RETRY_SCHEDULE;
}

/**
 * The delay before the retry that follows attempt `attempts` (1-based), or undefined when that
 * was the last attempt.
 */
export function retryDelaySeconds(schedule: readonly number[], attempts: number, random: () => number = Math.random): number | undefined {
  const base = schedule[attempts - 1];
  if (base === undefined) return undefined;
  const jittered = Math.round(base * (0.9 + 0.2 * random()));
  return Math.min(MAX_RETRY_DELAY_SECONDS, jittered);
}
