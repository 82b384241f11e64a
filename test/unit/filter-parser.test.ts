import { describe, expect, it } from "vitest";
import type { ScimError } from "../../src/scim/errors";
import {
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  parseFilter,
  parsePatchPath,
  printFilter,
} from "../../src/scim/filter";
import type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from "../../src/scim/filter";
import { USER as CORE_USER, ENTERPRISE } from "../support/urns";

const path = (attr: string, sub?: string, urn?: string): AttrPath => ({
  ...(urn !== undefined ? { urn } : {}),
  attr,
  ...(sub !== undefined ? { sub } : {}),
});
const cmp = (p: AttrPath | string, operator: CompareOp, value: FilterValue): Filter => ({
  op: "compare",
  path: typeof p === "string" ? path(p) : p,
  operator,
  value,
});
const pr = (p: AttrPath | string): Filter => ({ op: "present", path: typeof p === "string" ? path(p) : p });
const and = (left: Filter, right: Filter): Filter => ({ op: "and", left, right });
const or = (left: Filter, right: Filter): Filter => ({ op: "or", left, right });
const not = (filter: Filter): Filter => ({ op: "not", filter });
const vp = (p: AttrPath | string, filter: Filter, then?: Filter): Filter => ({
  op: "valuePath",
  path: typeof p === "string" ? path(p) : p,
  filter,
  ...(then !== undefined ? { then } : {}),
});

function parsed(input: string): Filter {
  const r = parseFilter(input);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(input)} to parse, got: ${r.error.message}`);
  return r.value;
}

function rejected(input: string): ScimError {
  const r = parseFilter(input);
  if (r.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected, got ${JSON.stringify(r.value)}`);
  expect(r.error.status, input).toBe(400);
  expect(r.error.scimType, input).toBe("invalidFilter");
  return r.error;
}

function parsedPath(input: string): PatchPath {
  const r = parsePatchPath(input);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(input)} to parse, got: ${r.error.message}`);
  return r.value;
}

describe("parseFilter: RFC 7644 §3.4.2.2 example filters", () => {
  const emailsOr = or(cmp("emails", "co", "example.com"), cmp(path("emails", "value"), "co", "example.org"));
  const examples: Array<[string, Filter]> = [
    ['userName eq "bjensen"', cmp("userName", "eq", "bjensen")],
    [`name.familyName co "O'Malley"`, cmp(path("name", "familyName"), "co", "O'Malley")],
    ['userName sw "J"', cmp("userName", "sw", "J")],
    [`${CORE_USER}:userName sw "J"`, cmp(path("userName", undefined, CORE_USER), "sw", "J")],
    ["title pr", pr("title")],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', cmp(path("meta", "lastModified"), "gt", "2011-05-13T04:42:34Z")],
    ['meta.lastModified ge "2011-05-13T04:42:34Z"', cmp(path("meta", "lastModified"), "ge", "2011-05-13T04:42:34Z")],
    ['meta.lastModified lt "2011-05-13T04:42:34Z"', cmp(path("meta", "lastModified"), "lt", "2011-05-13T04:42:34Z")],
    ['meta.lastModified le "2011-05-13T04:42:34Z"', cmp(path("meta", "lastModified"), "le", "2011-05-13T04:42:34Z")],
    ['title pr and userType eq "Employee"', and(pr("title"), cmp("userType", "eq", "Employee"))],
    ['title pr or userType eq "Intern"', or(pr("title"), cmp("userType", "eq", "Intern"))],
    [`schemas eq "${ENTERPRISE}"`, cmp("schemas", "eq", ENTERPRISE)],
    [
      'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
      and(cmp("userType", "eq", "Employee"), emailsOr),
    ],
    [
      'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
      and(cmp("userType", "ne", "Employee"), not(emailsOr)),
    ],
    [
      'userType eq "Employee" and (emails.type eq "work")',
      and(cmp("userType", "eq", "Employee"), cmp(path("emails", "type"), "eq", "work")),
    ],
    [
      'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
      and(
        cmp("userType", "eq", "Employee"),
        vp("emails", and(cmp("type", "eq", "work"), cmp("value", "co", "@example.com"))),
      ),
    ],
    [
      'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
      or(
        vp("emails", and(cmp("type", "eq", "work"), cmp("value", "co", "@example.com"))),
        vp("ims", and(cmp("type", "eq", "xmpp"), cmp("value", "co", "@foo.com"))),
      ),
    ],
  ];

  it.each(examples)("parses %s", (input, expected) => {
    expect(parsed(input), input).toEqual(expected);
  });

  it.each(examples)("prints %s back to text that parses to the same tree", (input, expected) => {
    expect(parsed(printFilter(expected)), input).toEqual(expected);
  });
});

describe("parseFilter: precedence and grouping", () => {
  it("binds and tighter than or", () => {
    expect(parsed("a pr or b pr and c pr")).toEqual(or(pr("a"), and(pr("b"), pr("c"))));
    expect(parsed("a pr and b pr or c pr")).toEqual(or(and(pr("a"), pr("b")), pr("c")));
  });

  it("binds not tighter than and", () => {
    expect(parsed("not a pr and b pr")).toEqual(and(not(pr("a")), pr("b")));
    expect(parsed("not (a pr and b pr)")).toEqual(not(and(pr("a"), pr("b"))));
  });

  it("lets parentheses override precedence", () => {
    expect(parsed("(a pr or b pr) and c pr")).toEqual(and(or(pr("a"), pr("b")), pr("c")));
    expect(parsed("((a pr))")).toEqual(pr("a"));
  });

  it("groups and/or chains from the left", () => {
    expect(parsed("a pr and b pr and c pr")).toEqual(and(and(pr("a"), pr("b")), pr("c")));
    expect(parsed("a pr or b pr or c pr")).toEqual(or(or(pr("a"), pr("b")), pr("c")));
  });

  it("accepts not(…) without a space and stacked nots", () => {
    expect(parsed("not(a pr)")).toEqual(not(pr("a")));
    expect(parsed("not not a pr")).toEqual(not(not(pr("a"))));
  });

  it("parses a long flat and-chain iteratively", () => {
    const input = Array.from({ length: 300 }, (_, i) => `a${i} pr`).join(" and ");
    expect(input.length).toBeLessThan(MAX_FILTER_LENGTH);
    const f = parsed(input);
    expect(f.op, input.slice(0, 40)).toBe("and");
  });
});

describe("parseFilter: case rules", () => {
  it("accepts operators and keywords in any case", () => {
    expect(parsed('userName EQ "x"')).toEqual(cmp("userName", "eq", "x"));
    expect(parsed('userName Eq "x" AND title PR OR NOT (nickName Sw "a")')).toEqual(
      or(and(cmp("userName", "eq", "x"), pr("title")), not(cmp("nickName", "sw", "a"))),
    );
  });

  it("accepts true, false and null in any case", () => {
    expect(parsed("active eq TRUE")).toEqual(cmp("active", "eq", true));
    expect(parsed("active eq False")).toEqual(cmp("active", "eq", false));
    expect(parsed("title eq NULL")).toEqual(cmp("title", "eq", null));
  });

  it("keeps attribute names in the case the client sent", () => {
    expect(parsed('UserName eq "x"')).toEqual(cmp("UserName", "eq", "x"));
    expect(parsed('NAME.GivenName eq "x"')).toEqual(cmp(path("NAME", "GivenName"), "eq", "x"));
  });
});

describe("parseFilter: values", () => {
  it("decodes JSON string escapes", () => {
    const input = String.raw`displayName eq "a\"b\\c\/d\u00e9\n\t\ud83d\ude00"`;
    expect(parsed(input), input).toEqual(cmp("displayName", "eq", 'a"b\\c/d\u00e9\n\t\u{1F600}'));
  });

  it("parses integers, decimals, exponents and negatives as numbers", () => {
    expect(parsed("x eq 42")).toEqual(cmp("x", "eq", 42));
    expect(parsed("x gt -3.25")).toEqual(cmp("x", "gt", -3.25));
    expect(parsed("x lt 1.5e3")).toEqual(cmp("x", "lt", 1500));
    expect(parsed("x le 2E-2")).toEqual(cmp("x", "le", 0.02));
  });

  it("takes an unquoted word as a string value (Entra ID docs: externalId eq jyoung)", () => {
    expect(parsed("externalId eq jyoung")).toEqual(cmp("externalId", "eq", "jyoung"));
    expect(parsed("userName eq jyoung@contoso.com and active eq true")).toEqual(
      and(cmp("userName", "eq", "jyoung@contoso.com"), cmp("active", "eq", true)),
    );
  });

  it("treats SQL-like text inside a quoted value as data", () => {
    expect(parsed(`userName eq "x' OR 1=1--"`)).toEqual(cmp("userName", "eq", "x' OR 1=1--"));
    const input = String.raw`userName eq "\"); DROP TABLE users; --"`;
    expect(parsed(input), input).toEqual(cmp("userName", "eq", '"); DROP TABLE users; --'));
  });

  it("allows ordering operators on booleans and null (semantic checks are elsewhere)", () => {
    expect(parsed("active gt true")).toEqual(cmp("active", "gt", true));
    expect(parsed("title co null")).toEqual(cmp("title", "co", null));
  });
});

describe("parseFilter: attribute paths", () => {
  it("splits an enterprise-extension URN from the attribute", () => {
    expect(parsed(`${ENTERPRISE}:employeeNumber eq "701984"`)).toEqual(
      cmp(path("employeeNumber", undefined, ENTERPRISE), "eq", "701984"),
    );
  });

  it("splits a URN-qualified sub-attribute", () => {
    expect(parsed(`${ENTERPRISE}:manager.value eq "26118915"`)).toEqual(
      cmp(path("manager", "value", ENTERPRISE), "eq", "26118915"),
    );
    expect(parsed(`${CORE_USER}:name.givenName eq "Barbara"`)).toEqual(
      cmp(path("name", "givenName", CORE_USER), "eq", "Barbara"),
    );
  });

  it("accepts $ref as an attribute name", () => {
    expect(parsed('members.$ref eq "https://x/Users/1"')).toEqual(cmp(path("members", "$ref"), "eq", "https://x/Users/1"));
  });

  it("reads 'not', 'and' and 'pr' as attribute names where an attribute is expected", () => {
    expect(parsed('not eq "x"')).toEqual(cmp("not", "eq", "x"));
    expect(parsed("not pr")).toEqual(pr("not"));
    expect(parsed("a pr and and pr")).toEqual(and(pr("a"), pr("and")));
  });
});

describe("parseFilter: identity-provider filters", () => {
  it("parses Entra ID's Test Connection filter", () => {
    const input = 'userName eq "0b7f2a49-2c1e-4d0b-9d3c-5f1f8d9e6a01"';
    expect(parsed(input)).toEqual(cmp("userName", "eq", "0b7f2a49-2c1e-4d0b-9d3c-5f1f8d9e6a01"));
  });

  it("parses Okta's pre-create lookup", () => {
    expect(parsed('userName eq "test.user@okta.local"')).toEqual(cmp("userName", "eq", "test.user@okta.local"));
  });

  it("parses Entra ID's email matching as one element that satisfies both conditions", () => {
    const input = 'emails[type eq "work"].value eq "a@b.c"';
    expect(parsed(input), input).toEqual(
      vp("emails", cmp("type", "eq", "work"), cmp(path("emails", "value"), "eq", "a@b.c")),
    );
  });

  it("parses a value path followed by .sub pr", () => {
    expect(parsed('emails[type eq "work"].value pr')).toEqual(vp("emails", cmp("type", "eq", "work"), pr(path("emails", "value"))));
  });

  it("parses Entra ID's group membership check", () => {
    const input = 'id eq "9e2b" and members[value eq "f648"]';
    expect(parsed(input), input).toEqual(and(cmp("id", "eq", "9e2b"), vp("members", cmp("value", "eq", "f648"))));
  });

  it("parses Entra ID's group lookup by displayName", () => {
    expect(parsed('displayName eq "Sales Team"')).toEqual(cmp("displayName", "eq", "Sales Team"));
  });
});

describe("parseFilter: bad input answers 400 invalidFilter", () => {
  const bad: Array<[string, string]> = [
    ["", "empty input"],
    ["   ", "blank input"],
    ["userName eq", "missing value"],
    ['a eq "x" or', "dangling or"],
    ['a eq "x" and', "dangling and"],
    ['userName xx "a"', "unknown operator"],
    ['userName eq "abc', "unterminated string"],
    ['userName eq "x" garbage', "trailing garbage"],
    ['userName eq "x")', "unbalanced closing parenthesis"],
    ['(userName eq "x"', "unclosed parenthesis"],
    ["userName) OR 1=1--", "SQL in attribute position"],
    [`userName eq "x" or 1=1`, "SQL-like trailing term"],
    ["x' OR 1=1-- eq 1", "quote in attribute name"],
    ["userName eq 'x'", "single-quoted value"],
    ["title pr \"x\"", "value after pr"],
    ['emails[type eq "work"', "unclosed value filter"],
    ['emails[type[value eq "x"] eq "y"]', "nested value filter"],
    ['emails.type[value eq "x"]', "sub-attribute before ["],
    ['emails[type eq "work"] .value eq "x"', "space before .sub"],
    ['emails[type eq "work"].value', ".sub without an operator"],
    ['1abc eq "x"', "attribute starting with a digit"],
    ['name.given.x eq "x"', "two sub-attribute levels"],
    [':userName eq "x"', "empty schema URI"],
    ['user name eq "x"', "space in attribute name"],
    [String.raw`a eq "\x"`, "invalid escape"],
    [String.raw`a eq "\u12"`, "short \\u escape"],
    ['a eq "tab\there"', "raw control character in a string"],
    ["a eq 1e999", "number out of range"],
    ["()", "empty parentheses"],
    ["not ()", "empty not"],
    ["userName eq and title pr", "keyword where a value belongs"],
    ['a eq "x" or or b pr', "doubled or"],
    ["[]", "bare brackets"],
  ];

  it.each(bad)("rejects %j (%s) with invalidFilter", (input) => {
    const error = rejected(input);
    expect(error.toBody().status, input).toBe("400");
    expect(error.message, input).toMatch(/position \d+/);
  });

  it("names the position and what was expected", () => {
    expect(rejected("userName eq").message).toBe("Expected a value after 'eq' at position 11 but found the end of the input");
    expect(rejected('userName xx "a"').message).toContain("Unknown operator \"xx\" at position 9");
    expect(rejected('a eq "x" or').message).toContain("Expected an attribute path, '(' or 'not' at position 11");
    expect(rejected("userName) OR 1=1--").message).toContain("at position 8 but found ')'");
  });

  it(`rejects a filter nested deeper than ${MAX_FILTER_DEPTH} levels with invalidFilter`, () => {
    const ok32 = `${"(".repeat(32)}a pr${")".repeat(32)}`;
    expect(parsed(ok32), ok32).toEqual(pr("a"));
    const deep33 = `${"(".repeat(33)}a pr${")".repeat(33)}`;
    expect(rejected(deep33).message, deep33).toContain(`deeper than ${MAX_FILTER_DEPTH}`);
  });

  it(`rejects more than ${MAX_FILTER_DEPTH} stacked nots with invalidFilter`, () => {
    const ok32 = `${"not ".repeat(32)}a pr`;
    expect(parseFilter(ok32).ok, ok32).toBe(true);
    const deep33 = `${"not ".repeat(33)}a pr`;
    expect(rejected(deep33).message, deep33).toContain(`deeper than ${MAX_FILTER_DEPTH}`);
  });

  it("counts value filters toward the nesting bound", () => {
    const input = `${"(".repeat(32)}emails[type eq "work"]${")".repeat(32)}`;
    expect(rejected(input).message, input).toContain("deeper than");
  });

  it("rejects deep nesting within the length cap by depth, without overflowing the stack", () => {
    const parens = `${"(".repeat(2000)}a pr${")".repeat(2000)}`;
    expect(parens.length).toBeLessThanOrEqual(MAX_FILTER_LENGTH);
    expect(rejected(parens).message, "2000 nested parentheses").toContain("deeper than");
    const nots = `${"not ".repeat(1000)}a pr`;
    expect(rejected(nots).message, "1000 stacked nots").toContain("deeper than");
    const notParens = `${"not (".repeat(600)}a pr${")".repeat(600)}`;
    expect(notParens.length).toBeLessThanOrEqual(MAX_FILTER_LENGTH);
    expect(rejected(notParens).message, "600 nested not (").toContain("deeper than");
  });

  it("rejects a 100,000-deep ((((… input with invalidFilter", () => {
    rejected(`${"(".repeat(100_000)}a pr${")".repeat(100_000)}`);
    rejected("(".repeat(100_000));
  });

  it("rejects a 100,000-deep not not not … input with invalidFilter", () => {
    rejected(`${"not ".repeat(100_000)}a pr`);
  });

  it(`rejects a filter longer than ${MAX_FILTER_LENGTH} characters with invalidFilter`, () => {
    const long = `userName eq "${"a".repeat(5000 - 14)}"`;
    expect(long.length).toBe(5000);
    expect(rejected(long).message, "5,000-char filter").toContain(`${MAX_FILTER_LENGTH}`);
  });

  it(`accepts a filter of exactly ${MAX_FILTER_LENGTH} characters`, () => {
    const exact = `userName eq "${"a".repeat(MAX_FILTER_LENGTH - 14)}"`;
    expect(exact.length).toBe(MAX_FILTER_LENGTH);
    expect(parseFilter(exact).ok, "4096-char filter").toBe(true);
    const over = `userName eq "${"a".repeat(MAX_FILTER_LENGTH - 13)}"`;
    rejected(over);
  });
});

describe("parsePatchPath (RFC 7644 §3.5.2)", () => {
  it("parses a plain attribute and a sub-attribute", () => {
    expect(parsedPath("members")).toEqual({ path: path("members") });
    expect(parsedPath("name.givenName")).toEqual({ path: path("name", "givenName") });
  });

  it("parses Entra ID's value-filter path with a sub-attribute", () => {
    expect(parsedPath('emails[type eq "work"].value')).toEqual({
      path: path("emails"),
      valueFilter: cmp("type", "eq", "work"),
      subAttr: "value",
    });
    expect(parsedPath('addresses[type eq "work"].formatted')).toEqual({
      path: path("addresses"),
      valueFilter: cmp("type", "eq", "work"),
      subAttr: "formatted",
    });
  });

  it("parses Okta's member removal path", () => {
    const input = 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]';
    expect(parsedPath(input), input).toEqual({
      path: path("members"),
      valueFilter: cmp("value", "eq", "89bb1940-b905-4575-9e7f-6f887cfb368e"),
    });
  });

  it("parses enterprise-extension paths", () => {
    expect(parsedPath(`${ENTERPRISE}:employeeNumber`)).toEqual({ path: path("employeeNumber", undefined, ENTERPRISE) });
    expect(parsedPath(`${ENTERPRISE}:manager`)).toEqual({ path: path("manager", undefined, ENTERPRISE) });
  });

  it.each([
    ["value missing inside the brackets", "emails[type eq]"],
    ["empty path", ""],
    ["unclosed bracket", 'emails[type eq "work"'],
    ["text glued after ]", 'emails[type eq "work"]x'],
    ["a filter, not a path", 'emails[type eq "work"] and x pr'],
    ["empty sub-attribute", "name..givenName"],
    ["two words", "members value"],
    ["stray parenthesis", "members)"],
    ["value filter nested past the bound", `emails[${"(".repeat(40)}type eq "x"${")".repeat(40)}]`],
    ["path over the length cap", `a${"b".repeat(MAX_FILTER_LENGTH)}`],
  ])("rejects a path with %s as invalidPath", (_label, input) => {
    const r = parsePatchPath(input);
    if (r.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
    expect(r.error.status, input).toBe(400);
    expect(r.error.scimType, input).toBe("invalidPath");
  });
});
