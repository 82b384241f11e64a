import { describe, expect, it } from "vitest";
import { matchesFilter, parseFilter } from "../../src/scim/filter";
import type { AttrPath, EvaluateOptions, Filter } from "../../src/scim/filter";
import { ENTERPRISE } from "../support/urns";

const user: Record<string, unknown> = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
  id: "2819c223",
  externalId: "ABC",
  userName: "BJensen",
  name: { givenName: "Barbara", familyName: "O'Malley" },
  title: "",
  nickName: null,
  groups: [],
  active: true,
  loginCount: 5,
  emails: [
    { type: "work", value: "bjensen@Example.com", primary: true },
    { type: "home", value: "babs@jensen.org" },
  ],
  meta: { lastModified: "2011-05-13T04:42:34Z" },
  [ENTERPRISE]: { employeeNumber: "701984", manager: { value: "26118915" } },
};

/** RFC 7643 §4.1: id and externalId are caseExact; everything else here is not. */
const opts: EvaluateOptions = {
  caseExact: (p: AttrPath) => ["id", "externalid"].includes(p.attr.toLowerCase()) && p.sub === undefined,
};

function filter(text: string): Filter {
  const r = parseFilter(text);
  if (!r.ok) throw new Error(`${text}: ${r.error.message}`);
  return r.value;
}

function expectMatch(resource: Record<string, unknown>, text: string, expected: boolean, o: EvaluateOptions = opts): void {
  expect(matchesFilter(resource, filter(text), o), text).toBe(expected);
}

describe("matchesFilter: comparisons", () => {
  it.each([
    ['userName eq "bjensen"', true],
    ['userName eq "BJENSEN"', true],
    ['userName eq "bjensen2"', false],
    ['userName ne "someone"', true],
    ['userName ne "bjensen"', false],
    ['userName sw "bj"', true],
    ['userName ew "SEN"', true],
    ['userName co "jens"', true],
    ['userName co "x"', false],
    ['name.familyName co "O\'Malley"', true],
  ] as const)("compares strings case-insensitively: %s → %s", (text, expected) => {
    expectMatch(user, text, expected);
  });

  it("compares caseExact attributes case-sensitively", () => {
    expectMatch(user, 'externalId eq "ABC"', true);
    expectMatch(user, 'externalId eq "abc"', false);
    expectMatch(user, 'id eq "2819C223"', false);
  });

  it("looks attribute names up case-insensitively (RFC 7643 §2.1)", () => {
    expectMatch(user, 'USERNAME eq "bjensen"', true);
    expectMatch(user, 'Name.GivenName eq "barbara"', true);
  });

  it("orders strings lexicographically, which orders ISO dateTimes", () => {
    expectMatch(user, 'meta.lastModified gt "2011-05-13T04:42:33Z"', true);
    expectMatch(user, 'meta.lastModified gt "2011-05-13T04:42:34Z"', false);
    expectMatch(user, 'meta.lastModified ge "2011-05-13T04:42:34Z"', true);
    expectMatch(user, 'meta.lastModified lt "2012-01-01T00:00:00Z"', true);
    expectMatch(user, 'meta.lastModified le "2011-05-13T04:42:34Z"', true);
    expectMatch(user, 'meta.lastModified lt "2011-01-01T00:00:00Z"', false);
  });

  it("compares numbers numerically and booleans by equality", () => {
    expectMatch(user, "loginCount gt 4", true);
    expectMatch(user, "loginCount le 4.5", false);
    expectMatch(user, "active eq true", true);
    expectMatch(user, "active ne false", true);
    expectMatch(user, "active gt false", false);
  });

  it("never equates values of different JSON types", () => {
    expectMatch(user, 'active eq "true"', false);
    expectMatch(user, 'loginCount eq "5"', false);
  });

  it("treats eq null as unassigned and ne null as assigned (RFC 7643 §2.5)", () => {
    expectMatch(user, "nickName eq null", true);
    expectMatch(user, "title eq null", true);
    expectMatch(user, "missing eq null", true);
    expectMatch(user, "userName eq null", false);
    expectMatch(user, "userName ne null", true);
  });

  it("matches no comparison, ne included, on an absent attribute", () => {
    expectMatch(user, 'missing ne "x"', false);
    expectMatch(user, 'missing eq "x"', false);
  });
});

describe("matchesFilter: presence", () => {
  it.each([
    ["userName pr", true],
    ["title pr", false],
    ["nickName pr", false],
    ["groups pr", false],
    ["missing pr", false],
    ["emails pr", true],
    ["name.givenName pr", true],
    ["name.middleName pr", false],
  ] as const)("treats empty string, null and [] as absent: %s → %s", (text, expected) => {
    expectMatch(user, text, expected);
  });

  it("does not find inherited properties", () => {
    expectMatch({}, "constructor pr", false);
    expectMatch({}, "toString pr", false);
    expectMatch({}, "hasOwnProperty pr", false);
  });
});

describe("matchesFilter: multi-valued attributes", () => {
  it("matches if any element matches (RFC 7644 §3.4.2.2)", () => {
    expectMatch(user, 'emails.value co "jensen.org"', true);
    expectMatch(user, 'emails.type eq "home"', true);
    expectMatch(user, 'emails.type eq "other"', false);
  });

  it("compares a complex value without a sub-attribute through its value", () => {
    expectMatch(user, 'emails co "example.com"', true);
    expectMatch(user, 'emails co "nowhere.net"', false);
  });

  it("requires a value filter's conditions to hold for the same element", () => {
    expectMatch(user, 'emails.type eq "work" and emails.value co "jensen.org"', true);
    expectMatch(user, 'emails[type eq "work" and value co "jensen.org"]', false);
    expectMatch(user, 'emails[type eq "work" and value co "example.com"]', true);
  });

  it("evaluates Entra ID's attr[filter].sub comparison on the same element", () => {
    expectMatch(user, 'emails[type eq "work"].value eq "bjensen@example.com"', true);
    expectMatch(user, 'emails[type eq "home"].value eq "bjensen@example.com"', false);
    expectMatch(user, 'emails[type eq "home"].value pr', true);
  });

  it("evaluates Entra ID's membership check", () => {
    const group = { id: "g1", displayName: "Sales", members: [{ value: "u1" }, { value: "u2", display: "Two" }] };
    expectMatch(group, 'id eq "g1" and members[value eq "u2"]', true);
    expectMatch(group, 'id eq "g1" and members[value eq "u3"]', false);
  });
});

describe("matchesFilter: schema URNs", () => {
  it("looks inside the extension object keyed by the URN, case-insensitively", () => {
    expectMatch(user, `${ENTERPRISE}:employeeNumber eq "701984"`, true);
    expectMatch(user, `${ENTERPRISE.toUpperCase()}:employeeNumber eq "701984"`, true);
    expectMatch(user, `${ENTERPRISE}:manager.value eq "26118915"`, true);
    expectMatch(user, `${ENTERPRISE}:userName pr`, false);
  });

  it("finds core attributes written with the core schema URN at the top level", () => {
    expectMatch(user, 'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b"', true);
    expectMatch(user, 'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "barbara"', true);
  });

  it("finds nothing under an unknown extension URN", () => {
    expectMatch(user, 'urn:example:other:userName eq "bjensen"', false);
  });
});

describe("matchesFilter: logic", () => {
  it("applies and, or and not", () => {
    expectMatch(user, 'userName eq "bjensen" and active eq true', true);
    expectMatch(user, 'userName eq "x" or active eq true', true);
    expectMatch(user, 'not (userName eq "x")', true);
    expectMatch(user, 'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', false);
  });
});

describe("matchesFilter: one element of a multi-valued attribute (PATCH value filters)", () => {
  it("evaluates relative paths against the element and asks caseExact about absolute paths", () => {
    const asked: AttrPath[] = [];
    const elementOpts: EvaluateOptions = {
      caseExact: (p) => {
        asked.push(p);
        return p.attr === "members" && p.sub === "value";
      },
      within: { attr: "members" },
    };
    expectMatch({ value: "AbC" }, 'value eq "AbC"', true, elementOpts);
    expectMatch({ value: "AbC" }, 'value eq "abc"', false, elementOpts);
    expect(asked).toContainEqual({ attr: "members", sub: "value" });
  });

  it("passes the value-path attribute to caseExact inside a bracket filter", () => {
    const asked: AttrPath[] = [];
    const o: EvaluateOptions = { caseExact: (p) => (asked.push(p), false) };
    expectMatch(user, 'emails[type eq "WORK"]', true, o);
    expect(asked).toContainEqual({ attr: "emails", sub: "type" });
  });
});
