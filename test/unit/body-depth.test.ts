/** The nesting check run on every SCIM body before JSON.parse (src/routes/body.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestingDepthExceeds } from "../../src/routes/body";

/** The real depth of a parsed value, for comparison (only on small values). */
function depthOf(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe("nestingDepthExceeds", () => {
  it("finds the bracket that opens level max + 1, and none at max", () => {
    expect(nestingDepthExceeds(`${"[".repeat(64)}${"]".repeat(64)}`, MAX_JSON_DEPTH)).toBeUndefined();
    expect(nestingDepthExceeds(`${"[".repeat(65)}${"]".repeat(65)}`, MAX_JSON_DEPTH)).toBe(64);
    expect(nestingDepthExceeds(`${'{"a":'.repeat(65)}1${"}".repeat(65)}`, MAX_JSON_DEPTH)).toBe(64 * 5);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const inString = JSON.stringify({ a: `\\"${"[{".repeat(100)}"\\` });
    expect(nestingDepthExceeds(inString, 2)).toBeUndefined();
    expect(nestingDepthExceeds(`["\\\\",[[]]]`, 2)).toBe(7);
  });

  it("scans a million brackets without recursion", () => {
    expect(nestingDepthExceeds("[".repeat(1_000_000), MAX_JSON_DEPTH)).toBe(64);
  });

  it("agrees with the parsed depth of any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(nestingDepthExceeds(text, max) !== undefined).toBe(depthOf(value) > max);
      }),
      { numRuns: 2000, seed: 64 },
    );
  });
});
