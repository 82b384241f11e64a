import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseFilter, parsePatchPath, printFilter } from "../../src/scim/filter";
import type { AttrPath, CompareOp, Filter, FilterValue } from "../../src/scim/filter";

// --- generators -------------------------------------------------------------------------------

/** RFC 7643 ATTRNAME, plus names that collide with keywords to exercise the parser's context rules. */
const attrName: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/), weight: 4 },
  { arbitrary: fc.constantFrom("$ref", "not", "and", "or", "pr", "eq", "true", "null", "userName", "emails", "value"), weight: 1 },
);

const urn: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
  ),
  fc.stringMatching(/^urn:[a-z][a-z0-9-]{0,6}(:[A-Za-z0-9.]{1,6}){0,3}$/),
);

/** Optional keys are left out, not set to undefined, as the parser does. */
const attrPath: fc.Arbitrary<AttrPath> = fc.record({ urn, attr: attrName, sub: attrName }, { requiredKeys: ["attr"] });
const elementPath: fc.Arbitrary<AttrPath> = fc.record({ attr: attrName, sub: attrName }, { requiredKeys: ["attr"] });

const value: fc.Arbitrary<FilterValue> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

const compareOp: fc.Arbitrary<CompareOp> = fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le");

function condition(path: fc.Arbitrary<AttrPath>): fc.Arbitrary<Filter> {
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant("compare" as const), path, operator: compareOp, value }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant("present" as const), path }), weight: 1 },
  );
}

/** `attr[filter]` with an optional Entra-style `.sub op value` on the same attribute. */
function valuePath(inner: fc.Arbitrary<Filter>): fc.Arbitrary<Filter> {
  return fc
    .tuple(fc.record({ urn, attr: attrName }, { requiredKeys: ["attr"] }), inner, fc.option(fc.tuple(attrName, condition(elementPath)), { nil: undefined }))
    .map(([path, filter, thenSpec]): Filter => {
      if (thenSpec === undefined) return { op: "valuePath", path, filter };
      const [sub, cond] = thenSpec;
      const thenPath: AttrPath = { ...path, sub };
      const then: Filter = cond.op === "compare" ? { ...cond, path: thenPath } : { op: "present", path: thenPath };
      return { op: "valuePath", path, filter, then };
    });
}

/** Filters up to `depth` levels of and/or/not/valuePath; value filters are not nested, as in the RFC. */
function filterArb(depth: number, inValueFilter: boolean): fc.Arbitrary<Filter> {
  const leaf = condition(inValueFilter ? elementPath : attrPath);
  if (depth === 0) return leaf;
  const sub = filterArb(depth - 1, inValueFilter);
  const options: Array<fc.WeightedArbitrary<Filter>> = [
    { arbitrary: leaf, weight: 3 },
    { arbitrary: fc.record({ op: fc.constant("and" as const), left: sub, right: sub }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant("or" as const), left: sub, right: sub }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant("not" as const), filter: sub }), weight: 1 },
  ];
  if (!inValueFilter) options.push({ arbitrary: valuePath(filterArb(Math.min(depth - 1, 2), true)), weight: 1 });
  return fc.oneof(...options);
}

/** Fragments that look like filters, so random strings reach deep into the parser. */
const filterish: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        "(", ")", "[", "]", "not", "NOT", "and", "Or", "pr", "eq", "co", "gt", "xx", "userName", "emails",
        ".value", "meta.lastModified", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        '"x"', '"', '"\\', "\\u00", '"\\u12"', "1", "-2.5e3", "1e999", "true", "null", ":", "'", "$ref",
        "1=1--", " ", "\t", "",
      ),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 40 },
  )
  .chain((parts) => fc.constantFrom(parts.join(" "), parts.join("")));

const nested: fc.Arbitrary<string> = fc
  .tuple(fc.nat(400), fc.constantFrom("(", "not ", "not (", "emails[", "(("), fc.nat(400))
  .map(([open, token, close]) => `${token.repeat(open)}a pr${")".repeat(close)}`);

/** Random capitalisation, as clients send `AND`, `Eq`, `PR`. */
const anyCase = (word: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((flags) =>
    [...word].map((c, i) => (flags[i] ? c.toUpperCase() : c)).join(""),
  );
const gap: fc.Arbitrary<string> = fc.constantFrom(" ", "  ", "\t", " \n ");
const pathText: fc.Arbitrary<string> = fc.constantFrom(
  "userName", "UserName", "name.givenName", "meta.lastModified", "emails.value", "not", "and",
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
);
const valueText: fc.Arbitrary<string> = fc.oneof(
  value.map((v) => (typeof v === "number" && Object.is(v, -0) ? "-0" : JSON.stringify(v))),
  anyCase("true"), anyCase("null"), fc.constantFrom("jyoung", "a@b.c", "1.5E+3", "-0.0", "00123"),
);

/** Mostly valid filters in the many surface forms clients write (case, spacing, bare `not`, bare words). */
function surfaceFilter(depth: number): fc.Arbitrary<string> {
  const attrExp = fc.oneof(
    fc.tuple(pathText, gap, anyCase("pr")).map((p) => p.join("")),
    fc.tuple(pathText, gap, compareOp.chain(anyCase), gap, valueText).map((p) => p.join("")),
  );
  if (depth === 0) return attrExp;
  const sub = surfaceFilter(depth - 1);
  return fc.oneof(
    { arbitrary: attrExp, weight: 3 },
    { arbitrary: fc.tuple(sub, gap, fc.constantFrom("and", "or").chain(anyCase), gap, sub).map((p) => p.join("")), weight: 3 },
    { arbitrary: sub.map((f) => `(${f})`), weight: 1 },
    { arbitrary: fc.tuple(anyCase("not"), fc.constantFrom(" (", "(", " "), sub).map(([n, o, f]) => (o === " " ? `${n} ${f}` : `${n}${o}${f})`)), weight: 1 },
    { arbitrary: fc.tuple(sub, fc.constantFrom("", ".value eq \"x\"", ".display pr")).map(([f, then]) => `emails[${f}]${then}`), weight: 1 },
  );
}

const anyInput: fc.Arbitrary<string> = fc.oneof(
  surfaceFilter(3),
  fc.string(),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "binary", minLength: 4000, maxLength: 5000 }),
  filterish,
  nested,
);

// --- properties -------------------------------------------------------------------------------

describe("filter properties", () => {
  it("reads printFilter's output back to the same tree for any bounded-depth AST", () => {
    fc.assert(
      fc.property(filterArb(4, false), (ast) => {
        const text = printFilter(ast);
        const back = parseFilter(text);
        if (!back.ok) throw new Error(`${text}: ${back.error.message}`);
        expect(back.value, text).toEqual(ast);
      }),
      { numRuns: 800 },
    );
  });

  it("never throws on any string and rejects only with 400 invalidFilter", () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const r = parseFilter(input);
        if (!r.ok) {
          expect(r.error.status, input).toBe(400);
          expect(r.error.scimType, input).toBe("invalidFilter");
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("prints any accepted filter to text that parses to the same tree", () => {
    fc.assert(
      fc.property(fc.oneof(surfaceFilter(3), filterish, nested), (input) => {
        const r = parseFilter(input);
        if (!r.ok) return;
        const again = parseFilter(printFilter(r.value));
        expect(again.ok && again.value, input).toEqual(r.value);
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws on any PATCH path and rejects only with 400 invalidPath", () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const r = parsePatchPath(input);
        if (!r.ok) {
          expect(r.error.status, input).toBe(400);
          expect(r.error.scimType, input).toBe("invalidPath");
        }
      }),
      { numRuns: 1000 },
    );
  });
});
