/**
 * fast-check generators of hostile SCIM input for test/fuzz-http.test.ts: filters, JSON text of
 * every shape (deep, wide, long, malformed), resource bodies and PatchOps that look almost right.
 * JSON is generated as text, not as values, so it can carry what JSON.stringify would never
 * write: duplicate and prototype keys, numbers past float range, lone surrogates in escapes.
 */
import fc from "fast-check";
import { ENTERPRISE, GROUP, PATCH_OP, USER } from "./urns";

/** Stand-ins the test replaces with the current tenant's fixture ids. */
export const USER_ID = "{user}";
export const GROUP_ID = "{group}";

// --- text ------------------------------------------------------------------------------------

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Any code point of any plane (surrogate code points come out lone), and characters that matter. */
const anyChar = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)) },
  { weight: 1, arbitrary: loneSurrogate },
  {
    weight: 3,
    arbitrary: fc.constantFrom("\u0000", "\u0007", "\u200b", "\u202e", "\ufeff", "é", "e\u0301", "ß", "İ", "Σ", "𝔘", "😀", '"', "\\", "%", "_", "'", "[", "]", "(", ")", " ", ".", ":", "{", "}"),
  },
  { weight: 4, arbitrary: fc.constantFrom("a", "b", "x", "0", "@", "-") },
);
const wildString = fc.array(anyChar, { maxLength: 20 }).map((chars) => chars.join(""));
const longString = fc
  .tuple(fc.integer({ min: 200, max: 6000 }), fc.constantFrom("a", "é", "𝔘", "\ud800", "\""))
  .map(([n, c]) => c.repeat(n));
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: wildString },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom("", "work", "Work", "alice@example.com", "ALICE@EXAMPLE.COM", "True", "False", "yes", "null", "2024-01-31T12:00:00Z", "x' OR 1=1--") },
  { weight: 1, arbitrary: longString },
);

// --- names -----------------------------------------------------------------------------------

const ATTRIBUTES = [
  "userName", "name", "name.givenName", "name.familyName", "displayName", "nickName", "title", "userType", "active",
  "emails", "emails.value", "emails.type", "emails.primary", "phoneNumbers", "phoneNumbers.value", "addresses",
  "addresses.locality", "roles", "roles.value", "entitlements", "x509Certificates", "ims", "photos", "groups",
  "groups.value", "members", "members.value", "members.display", "externalId", "id", "meta", "meta.created",
  "meta.lastModified", "meta.resourceType", "meta.version", "password", "schemas", "timezone", "locale",
  `${ENTERPRISE}:employeeNumber`, `${ENTERPRISE}:manager`, `${ENTERPRISE}:manager.value`, `${USER}:userName`,
  `${GROUP}:displayName`, "unknownAttribute", "__proto__", "constructor", "prototype", "not", "and", "or", "pr", "eq",
];
/** An attribute name, sometimes in another case, sometimes not a name at all. */
export const attribute: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ATTRIBUTES) },
  { weight: 2, arbitrary: fc.constantFrom(...ATTRIBUTES).map((a) => a.toUpperCase()) },
  { weight: 1, arbitrary: wildString },
);
const multiValued = fc.constantFrom("emails", "phoneNumbers", "addresses", "roles", "members", "groups", "x509Certificates", "name", "userName");

// --- filters ---------------------------------------------------------------------------------

const operator = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Co") },
  { weight: 1, arbitrary: fc.constantFrom("like", "=", "pr", "and", "") },
);
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.constantFrom("-0", "1e400", "-1e400", "1e-400", "123456789012345678901234567890", "0x10", "1.", ".5", "NaN", "Infinity"),
);
/** compValue: JSON strings (lone surrogates escaped), raw-quoted text, numbers, literals, bare words. */
const compValue = fc.oneof(
  { weight: 5, arbitrary: text.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: text.map((s) => `"${s}"`) },
  { weight: 2, arbitrary: numberText },
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null", "jyoung", USER_ID, GROUP_ID) },
);
const comparison = fc.tuple(attribute, operator, compValue).map(([a, op, v]) => `${a} ${op} ${v}`);
const presence = attribute.map((a) => `${a} pr`);
const simpleTerm = fc.oneof({ weight: 3, arbitrary: comparison }, { weight: 1, arbitrary: presence });
const valueFilter = fc
  .tuple(multiValued, fc.array(simpleTerm, { minLength: 1, maxLength: 3 }), fc.constantFrom(" and ", " or "), fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: comparison }))
  .map(([attr, terms, join, then]) => `${attr}[${terms.join(join).replaceAll(/\b(emails|members|groups)\./g, "")}]${then ? `.${then.replace(/^\S+/, "value")}` : ""}`);
const term = fc.oneof({ weight: 5, arbitrary: simpleTerm }, { weight: 2, arbitrary: valueFilter });

const { filter: structured } = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    term,
    fc.tuple(tie("filter"), fc.constantFrom("and", "or", "AND", "Or"), tie("filter")).map(([l, op, r]) => `${l} ${op} ${r}`),
    tie("filter").map((f) => `not (${f})`),
    tie("filter").map((f) => `(${f})`),
  ),
}));

/** Filters at and past the bounds: long chains, deep nesting, many parameters, over 4,096 characters. */
export const boundFilter: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 450 }), simpleTerm, fc.constantFrom("and", "or")).map(([n, t, op]) => Array.from({ length: n }, () => t).join(` ${op} `)),
  fc.tuple(fc.array(simpleTerm, { minLength: 50, maxLength: 130 }), fc.constantFrom("and", "or")).map(([ts, op]) => ts.join(` ${op} `)),
  fc.tuple(fc.integer({ min: 1, max: 40 }), term).map(([n, t]) => `${"not (".repeat(n)}${t}${")".repeat(n)}`),
  fc.tuple(fc.integer({ min: 1, max: 40 }), term).map(([n, t]) => `${"not (id pr and ".repeat(n)}${t}${")".repeat(n)}`),
  fc.tuple(fc.integer({ min: 1, max: 40 }), multiValued, simpleTerm).map(([n, a, t]) => `${a}[${"not (".repeat(n)}${t.replace(/^\S+/, "value")}${")".repeat(n)}]`),
  fc.tuple(fc.integer({ min: 1, max: 60 }), fc.constantFrom("(", "[", "not ", "((")).map(([n, open]) => `${open.repeat(n)}id pr`),
  fc.integer({ min: 30, max: 120 }).map((n) => Array.from({ length: n }, (_, i) => (i % 3 ? "meta.resourceType pr" : `title eq "t${i}"`)).join(" or ")),
  fc.constantFrom("x".repeat(4097), `userName eq "${"a".repeat(4090)}"`),
);

/** Words and punctuation of the grammar in random order: the parser's error paths. */
const tokenSoup = fc
  .array(fc.oneof(attribute, operator, compValue, fc.constantFrom("(", ")", "[", "]", "not", "and", "or", "pr", ".", '"', "\\")), { maxLength: 14 })
  .map((tokens) => tokens.join(" "));

export const filter: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: structured },
  { weight: 2, arbitrary: tokenSoup },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: structured.chain((f) => fc.nat({ max: f.length }).map((cut) => f.slice(0, cut))) },
);

// --- JSON text -------------------------------------------------------------------------------

const key = fc.oneof(
  { weight: 6, arbitrary: attribute },
  { weight: 1, arbitrary: fc.constantFrom("schemas", "Operations", "op", "path", "value", "__proto__", "constructor", "prototype", ENTERPRISE) },
  { weight: 1, arbitrary: text },
);
const jsonScalar = fc.oneof(
  { weight: 4, arbitrary: text.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: numberText.filter((n) => /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(n)) },
  { weight: 2, arbitrary: fc.constantFrom("null", "true", "false", '"True"', '"False"', "0", "[]", "{}") },
  { weight: 1, arbitrary: fc.constantFrom(JSON.stringify(USER_ID), JSON.stringify(GROUP_ID)) },
);
function object(entries: [string, string][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
}
/** Any JSON value as text, a few levels deep. */
export const json: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonScalar,
    fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
    fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map(object),
  ),
})).value;

/** A value that looks like what the attribute takes, or any JSON. */
const plausibleValue = fc.oneof(
  { weight: 6, arbitrary: json },
  { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom("value", "type", "primary", "display", "$ref"), json), { maxLength: 4 }).map((e) => `[${object(e)}]`) },
  { weight: 1, arbitrary: fc.constantFrom(`[{"value":"${USER_ID}"}]`, `{"value":"${USER_ID}"}`, `[{"value":"${GROUP_ID}","type":"Group"}]`, `{"givenName":"A","familyName":"B"}`) },
  { weight: 1, arbitrary: fc.integer({ min: 990, max: 1010 }).map((n) => `[${Array.from({ length: n }, (_, i) => `{"value":"e${i}@x.io"}`).join(",")}]`) },
  { weight: 1, arbitrary: fc.constantFrom(64, 65, 1000, 100_000).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`) },
);

/** `arbitrary` most of the time, else undefined (fc.option's nil comes more often in small sizes). */
export function mostly<T>(arbitrary: fc.Arbitrary<T>, absentOneIn = 8): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: absentOneIn - 1, arbitrary }, { weight: 1, arbitrary: fc.constant(undefined) });
}

/** `schemas`: right most of the time (or the body never gets past it), else anything. */
function schemasFor(urn: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(`["${urn}"]`) },
    { weight: 1, arbitrary: fc.constantFrom(`["${USER}","${ENTERPRISE}"]`, `["${urn.toUpperCase()}"]`, `"${urn}"`) },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom(`["${USER}"]`, `["${GROUP}"]`, `["${PATCH_OP}"]`, `["urn:x"]`, "[]", "null"), json) },
  );
}

/** Multi-valued attributes with about as many values as the cap allows, or a few more. */
const crowdedAttribute = fc
  .tuple(fc.constantFrom("emails", "phoneNumbers", "roles", "entitlements", "members"), fc.integer({ min: 995, max: 1005 }))
  .map(([name, n]): [string, string] => [name, `[${Array.from({ length: n }, (_, i) => `{"value":"v${i}@x.io"}`).join(",")}]`]);

/** A POST/PUT body for the resource with core schema `urn`, one more often than not. */
export function resourceBody(urn: string): fc.Arbitrary<string> {
  return fc
    .tuple(
      mostly(schemasFor(urn)),
      mostly(text),
      fc.array(fc.tuple(key, plausibleValue), { maxLength: 5 }),
      fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: crowdedAttribute }),
    )
    .map(([schemas, name, entries, crowded]) => {
      const all: [string, string][] = [];
      if (schemas !== undefined) all.push(["schemas", schemas]);
      if (name !== undefined) all.push([urn === USER ? "userName" : "displayName", JSON.stringify(name)]);
      if (crowded !== undefined) all.push(crowded);
      return object([...all, ...entries]);
    });
}

const opName = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom("add", "remove", "replace", "Add", "Replace", "REMOVE") },
  { weight: 1, arbitrary: fc.constantFrom("move", "copy", "test", "") },
  { weight: 1, arbitrary: text },
);
const patchPath = fc.oneof(
  { weight: 4, arbitrary: attribute },
  { weight: 2, arbitrary: valueFilter },
  { weight: 1, arbitrary: fc.constantFrom(`members[value eq "${USER_ID}"]`, 'emails[type eq "work"].value', "name.givenName", `${ENTERPRISE}:manager`) },
  { weight: 1, arbitrary: filter },
);
const operation = fc
  .tuple(mostly(opName, 12), mostly(patchPath, 4), mostly(plausibleValue, 4), fc.array(fc.tuple(key, json), { maxLength: 1 }))
  .map(([op, path, value, extra]) => {
    const entries: [string, string][] = [];
    if (op !== undefined) entries.push(["op", JSON.stringify(op)]);
    if (path !== undefined) entries.push(["path", JSON.stringify(path)]);
    if (value !== undefined) entries.push(["value", value]);
    return object([...entries, ...extra]);
  });
/** A PatchOp body that is one more often than not. */
export const patchBody: fc.Arbitrary<string> = fc
  .tuple(mostly(schemasFor(PATCH_OP)), fc.oneof({ weight: 5, arbitrary: fc.array(operation, { minLength: 1, maxLength: 3 }).map((ops) => `[${ops.join(",")}]`) }, { weight: 1, arbitrary: json }))
  .map(([schemas, operations]) => object([...(schemas !== undefined ? [["schemas", schemas] as [string, string]] : []), ["Operations", operations]]));

/** A .search body (SearchRequest), with the filter and paging in the wrong types now and then. */
export const searchBody: fc.Arbitrary<string> = fc
  .tuple(mostly(filter, 6), fc.array(fc.tuple(fc.constantFrom("startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes", "cursor", "filter", "schemas"), json), { maxLength: 3 }))
  .map(([f, entries]) => object([...(f !== undefined ? [["filter", JSON.stringify(f)] as [string, string]] : []), ...entries]));

// --- shapes ----------------------------------------------------------------------------------

/** JSON shapes no IdP sends: deep, wide, long, malformed; each wrapped in an otherwise valid body. */
export const shape: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(63, 64, 65, 100, 5000, 100_000).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`),
  fc.integer({ min: 60, max: 70 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => `[${Array.from({ length: n }, (_, i) => i).join(",")}]`),
  fc.integer({ min: 1000, max: 5000 }).map((n) => object(Array.from({ length: n }, (_, i) => [`k${i}`, "null"]))),
  fc.constantFrom(200_000, 900_000, 1_100_000).map((n) => JSON.stringify("x".repeat(n))),
  fc.constantFrom("", "nul", "[", "{", '{"a":}', "01", "1e999999", '"\\ud800"', '"\\u00"', "\ufeff{}", "{}}", "[1,]"),
);

/** Where a shape goes: alone as the body, or where each endpoint reads values. */
export type Wrapping = "alone" | "resource" | "patch" | "search";
export function wrap(shapeText: string, wrapping: Wrapping, schema: string): string {
  switch (wrapping) {
    case "alone":
      return shapeText;
    case "resource":
      return `{"schemas":["${schema}"],"userName":"shape","displayName":"shape","title":${shapeText},"emails":${shapeText}}`;
    case "patch":
      return `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"displayName","value":${shapeText}},{"op":"add","path":"members","value":${shapeText}}]}`;
    case "search":
      return `{"filter":${shapeText},"startIndex":${shapeText}}`;
  }
}

// --- URLs ------------------------------------------------------------------------------------

/** encodeURIComponent, except that a lone surrogate becomes the 3 (invalid UTF-8) bytes of its code. */
export function encodeQueryValue(value: string): string {
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
    } else {
      out += encodeURIComponent(ch);
    }
  }
  return out;
}

const queryNumber = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -5, max: 3000 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom("abc", "", "1e3", "9007199254740993", "-0", "1.5", " 2") },
);
/** Extra list parameters: paging, sorting, projection, cursors. */
export const listParameters: fc.Arbitrary<string> = fc
  .record(
    {
      startIndex: queryNumber,
      count: queryNumber,
      sortBy: attribute,
      sortOrder: fc.constantFrom("ascending", "descending", "DESCENDING", "up"),
      attributes: attribute,
      excludedAttributes: attribute,
      cursor: fc.oneof(fc.constant(""), fc.constantFrom("c1.0", "c1.zz", "c1.-1", "c1.1e10"), text),
    },
    { requiredKeys: [] },
  )
  .map((params) => Object.entries(params).map(([k, v]) => `&${k}=${encodeQueryValue(v)}`).join(""));

/** A resource id in a path: the fixture's, another one's, or nothing like an id. */
export const idInPath = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(USER_ID, GROUP_ID) },
  { weight: 1, arbitrary: fc.constantFrom("00000000-0000-4000-8000-000000000000", "x", "%00", "..%2F..%2FUsers", "a".repeat(300), "%F0%9F%98%80", "%ED%A0%80") },
);

export const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom("application/scim+json", "application/json; charset=utf-8") },
  { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/xml", "application/scim+json; charset=latin1", "multipart/form-data") },
);

// --- /Bulk -----------------------------------------------------------------------------------

const BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const bulkId = fc.constantFrom("a", "b", "c", "", "bulkId:a");
const bulkPath = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("/Users", "/Groups", `/Users/${USER_ID}`, `/Groups/${GROUP_ID}`, "/Users/bulkId:a", "/groups/bulkId:b/") },
  { weight: 1, arbitrary: fc.constantFrom("/", "/Bulk", "/Users/x/y", "Users", "/Widgets", "/Users/%ZZ", "/Users/?a=b") },
  { weight: 1, arbitrary: wildString.map((s) => `/${s}`) },
);
/** A data value that refers to an operation by bulkId now and then. */
const bulkData = fc.oneof(
  { weight: 3, arbitrary: resourceBody(USER) },
  { weight: 2, arbitrary: resourceBody(GROUP).map((b) => b.replace(/^\{/, '{"members":[{"value":"bulkId:a"},{"value":"bulkId:b"}],')) },
  { weight: 3, arbitrary: patchBody },
  { weight: 1, arbitrary: json },
);
const bulkOperation = fc
  .tuple(fc.constantFrom("POST", "PUT", "PATCH", "DELETE", "post", "GET", "", "1"), bulkPath, mostly(bulkId, 3), mostly(bulkData, 4), mostly(fc.constantFrom('"W/\\"1\\""', '"*"', "7", '"x"'), 2))
  .map(([method, path, id, data, version]) =>
    object([
      ["method", JSON.stringify(method)],
      ["path", JSON.stringify(path)],
      ...(id !== undefined ? [["bulkId", JSON.stringify(id)] as [string, string]] : []),
      ...(data !== undefined ? [["data", data] as [string, string]] : []),
      ...(version !== undefined ? [["version", version] as [string, string]] : []),
    ]),
  );
/** A BulkRequest of a few operations, now and then with a bad failOnErrors or Operations. */
export const bulkBody: fc.Arbitrary<string> = fc
  .tuple(
    mostly(fc.constant(`["${BULK_REQUEST}"]`)),
    mostly(fc.constantFrom("1", "2", "0", "-1", '"1"', "1.5", "null"), 2),
    fc.oneof({ weight: 6, arbitrary: fc.array(bulkOperation, { minLength: 1, maxLength: 3 }).map((ops) => `[${ops.join(",")}]`) }, { weight: 1, arbitrary: json }),
  )
  .map(([schemas, failOnErrors, operations]) =>
    object([
      ...(schemas !== undefined ? [["schemas", schemas] as [string, string]] : []),
      ...(failOnErrors !== undefined ? [["failOnErrors", failOnErrors] as [string, string]] : []),
      ["Operations", operations],
    ]),
  );
