/**
 * The containment index behind PATCH add and Entra's remove-by-value (issue 9, item 5): the same
 * answers as containsValue, element by element, at a cost linear in the values involved.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ElementIndex, PartSet } from "../../src/scim/patch/containment";
import { containsValue } from "../../src/scim/patch/values";
import { type AttributeDefinition, type JsonObject, type JsonValue, USER_SCHEMA } from "../../src/scim/schema";

function attribute(name: string): AttributeDefinition {
  const found = USER_SCHEMA.attributes.find((a) => a.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
}
const emails = attribute("emails");
const x509 = attribute("x509Certificates");

// Few distinct strings, in both cases, so that equal-but-for-case values are common.
const text = fc.constantFrom("a@x.io", "A@X.io", "b@x.io", "work", "Work", "home", "");
const scalar: fc.Arbitrary<JsonValue> = fc.oneof(text, fc.boolean(), fc.constantFrom(0, 1, -0, 1.5), fc.constant(null));
const element: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(fc.constantFrom("value", "type", "primary", "display", "Value"), scalar, { maxKeys: 4 }) },
  { weight: 1, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.record({ value: fc.dictionary(fc.constantFrom("b", "a"), scalar, { maxKeys: 2 }) }) },
);

describe("ElementIndex and PartSet", () => {
  it.each([emails, x509])("answer exactly as containsValue for $name", (attr) => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 8 }), fc.array(element, { maxLength: 8 }), (elements, parts) => {
        const index = new ElementIndex(attr, elements);
        const seen = [...elements];
        for (const part of parts) {
          expect(index.holds(part), JSON.stringify({ seen, part })).toBe(seen.some((el) => containsValue(attr, el, part)));
          index.add(part);
          seen.push(part);
        }
        const listed = new PartSet(attr, parts);
        for (const el of elements) {
          expect(listed.heldBy(el), JSON.stringify({ el, parts })).toBe(parts.some((p) => containsValue(attr, el, p)));
        }
      }),
      { numRuns: 2000, seed: 9 },
    );
  });

  it("adds 10,000 values to 10,000 with work linear in both (not 10⁸ comparisons)", () => {
    const existing = Array.from({ length: 10_000 }, (_, i) => ({ value: `user${i}@example.com`, type: "work" }));
    const incoming = Array.from({ length: 10_000 }, (_, i): JsonObject => (i % 2 ? { value: `USER${i}@example.com` } : { value: `new${i}@example.com`, type: "home" }));
    const index = new ElementIndex(emails, existing);
    const added = incoming.filter((el) => {
      if (index.holds(el)) return false;
      index.add(el);
      return true;
    });
    expect(added).toHaveLength(5_000);
    // Two key sets asked about ({value}, {type, value}): each element projected once per key
    // set, each question once. 10,000 · 2 + 10,000 + 5,000 · 2 = 40,000.
    expect(index.projections).toBeLessThanOrEqual(40_000);
  });

  it("removes 10,000 listed values from 10,000 with work linear in both", () => {
    const existing = Array.from({ length: 10_000 }, (_, i) => ({ value: `user${i}@example.com`, type: i % 2 ? "work" : "home" }));
    const listed = new PartSet(
      emails,
      Array.from({ length: 10_000 }, (_, i): JsonObject => (i % 2 ? { value: `USER${i}@example.com` } : { value: `user${i}@example.com`, type: "work" })),
    );
    const kept = existing.filter((el) => !listed.heldBy(el));
    expect(kept).toHaveLength(5_000);
    expect(listed.projections).toBeLessThanOrEqual(30_000);
  });
});
