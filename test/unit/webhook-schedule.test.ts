import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_SCHEDULE, MAX_RETRY_DELAY_SECONDS, retryDelaySeconds, retrySchedule } from "../../src/webhooks/schedule";

const HOUR = 3_600;

describe("webhook retry schedule", () => {
  it("retries for about three days by default (issue 11), each delay within the queue's maximum", () => {
    const total = DEFAULT_RETRY_SCHEDULE.reduce((sum, d) => sum + d, 0);
    expect(total / HOUR).toBeGreaterThan(60);
    expect(total / HOUR).toBeLessThan(80);
    expect(DEFAULT_RETRY_SCHEDULE.every((d) => d <= MAX_RETRY_DELAY_SECONDS)).toBe(true);
  });

  it("jitters each delay by at most 10 % and ends after the last step", () => {
    const schedule = retrySchedule(undefined);
    expect(retryDelaySeconds(schedule, 1, () => 0)).toBe(54);
    expect(retryDelaySeconds(schedule, 1, () => 1)).toBe(66);
    expect(retryDelaySeconds(schedule, schedule.length, () => 0.5)).toBe(36_000);
    expect(retryDelaySeconds(schedule, schedule.length + 1)).toBeUndefined();
  });

  it("takes a configured schedule, and falls back to the default for a bad one", () => {
    expect(retrySchedule("0,0")).toEqual([0, 0]);
    expect(retrySchedule("60,abc")).toBe(DEFAULT_RETRY_SCHEDULE);
    expect(retrySchedule(String(MAX_RETRY_DELAY_SECONDS + 1))).toBe(DEFAULT_RETRY_SCHEDULE);
  });
});
