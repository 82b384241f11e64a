import { describe, expect, it } from "vitest";
import type { Result } from "../../src/scim/errors";
import { applyPatch, parsePatchRequest, type PatchOutcome } from "../../src/scim/patch";
import type { ScimDocument } from "../../src/scim/schema";
import { USER as CORE, ENTERPRISE, PATCH_OP } from "../support/urns";

const USER_ID = "2819c223-7f76-453a-919d-413861904646";
const show = (v: unknown): string => JSON.stringify(v);

/** A stored user as parseResource leaves it. */
function storedUser(extra: Record<string, unknown> = {}): ScimDocument {
  return {
    schemas: [CORE],
    userName: "bjensen@example.com",
    name: { familyName: "Jensen", givenName: "Barbara" },
    displayName: "Babs Jensen",
    active: true,
    emails: [{ value: "bjensen@example.com", type: "work", primary: true }],
    ...extra,
  };
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

/** Parses and applies a PATCH body to a frozen copy of `doc` (so any mutation of the input throws). */
function patch(doc: ScimDocument, body: unknown): Result<PatchOutcome> {
  const ops = parsePatchRequest(body);
  if (!ops.ok) return ops;
  return applyPatch("User", deepFreeze(structuredClone(doc)), ops.value, USER_ID);
}

const request = (...ops: unknown[]): Record<string, unknown> => ({ schemas: [PATCH_OP], Operations: ops });

function applied(doc: ScimDocument, body: unknown): PatchOutcome {
  const r = patch(doc, body);
  if (!r.ok) throw new Error(`expected ${show(body)} to apply, got ${r.error.scimType}: ${r.error.message}`);
  return r.value;
}

function rejected(doc: ScimDocument, body: unknown, scimType: string, mentions?: string): void {
  const r = patch(doc, body);
  if (r.ok) throw new Error(`expected ${show(body)} to be rejected with ${scimType}, got ${show(r.value.doc)}`);
  expect(r.error.status, `status for ${show(body)}`).toBe(400);
  expect(r.error.scimType, `scimType for ${show(body)}: ${r.error.message}`).toBe(scimType);
  if (mentions !== undefined) expect(r.error.message, `detail for ${show(body)}`).toContain(mentions);
}

describe("Okta", () => {
  it("deactivates with a path-less replace {active:false}", () => {
    const body = { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { active: false } }] };
    const out = applied(storedUser(), body);
    expect(out.doc, show(body)).toEqual({ ...storedUser(), active: false });
    expect(out.changed).toBe(true);
  });

  it("reactivates with {active:true}", () => {
    const body = request({ op: "replace", value: { active: true } });
    expect(applied(storedUser({ active: false }), body).doc.active, show(body)).toBe(true);
  });

  it("reports no change when deactivating an inactive user (no version bump)", () => {
    const body = request({ op: "replace", value: { active: false } });
    expect(applied(storedUser({ active: false }), body).changed, show(body)).toBe(false);
  });

  it("accepts a path-less id equal to the user's own id, and refuses another id with mutability", () => {
    expect(applied(storedUser(), request({ op: "replace", value: { id: USER_ID, active: false } })).doc.active).toBe(false);
    rejected(storedUser(), request({ op: "replace", value: { id: "someone-else", active: false } }), "mutability");
  });

  it("checks a password like POST and never stores it", () => {
    const out = applied(storedUser(), request({ op: "replace", value: { password: "n3w-s3cret" } }));
    expect(out.doc).not.toHaveProperty("password");
    expect(out.changed).toBe(false);
    rejected(storedUser(), request({ op: "replace", path: "password", value: 42 }), "invalidValue");
  });
});

describe("Entra ID default dialect", () => {
  it("applies one op per attribute with capitalised ops, string booleans and value-filter paths", () => {
    const user = storedUser({ emails: [{ value: "old@example.com", type: "work", primary: true }] });
    const body = {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [
        { op: "Replace", path: "active", value: "False" },
        { op: "Replace", path: 'emails[type eq "work"].value', value: "new@example.com" },
        { op: "Replace", path: "name.givenName", value: "Barb" },
        { op: "Add", path: 'addresses[type eq "work"].formatted', value: "1 Main St, Springfield" },
        { op: "Add", path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", value: "701984" },
        { op: "Add", path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", value: "2c2f1a7e" },
      ],
    };
    const out = applied(user, body);
    expect(out.doc, show(body)).toEqual({
      schemas: [CORE, ENTERPRISE],
      userName: "bjensen@example.com",
      name: { familyName: "Jensen", givenName: "Barb" },
      displayName: "Babs Jensen",
      active: false,
      emails: [{ value: "new@example.com", type: "work", primary: true }],
      addresses: [{ formatted: "1 Main St, Springfield", type: "work" }],
      [ENTERPRISE]: { employeeNumber: "701984", manager: { value: "2c2f1a7e" } },
    });
    expect(out.changed).toBe(true);
  });

  it.each([["True", true], ["False", false], ["true", true], ["FALSE", false]])("reads the boolean string %s as %s", (value, expected) => {
    const body = request({ op: "Replace", path: "active", value });
    expect(applied(storedUser({ active: !expected }), body).doc.active, show(body)).toBe(expected);
  });

  it("answers invalidValue to active: \"yes\"", () => {
    rejected(storedUser(), request({ op: "Replace", path: "active", value: "yes" }), "invalidValue", "active");
    rejected(storedUser(), request({ op: "replace", value: { active: "yes" } }), "invalidValue", "active");
  });

  it("stores a bare manager id as {value} and replaces it the same way", () => {
    const body = request({ op: "Replace", path: `${ENTERPRISE}:manager`, value: "new-boss" });
    const out = applied(storedUser({ schemas: [CORE, ENTERPRISE], [ENTERPRISE]: { manager: { value: "old-boss" } } }), body);
    expect(out.doc[ENTERPRISE], show(body)).toEqual({ manager: { value: "new-boss" } });
  });

  it("removes the manager, and the extension with its schemas entry once empty", () => {
    const body = request({ op: "Remove", path: `${ENTERPRISE}:manager` });
    const out = applied(storedUser({ schemas: [CORE, ENTERPRISE], [ENTERPRISE]: { manager: { value: "boss" } } }), body);
    expect(out.doc, show(body)).toEqual(storedUser());
  });

  it("clears the manager with an empty string or null", () => {
    const user = storedUser({ schemas: [CORE, ENTERPRISE], [ENTERPRISE]: { manager: { value: "boss" }, department: "R&D" } });
    for (const value of ["", null]) {
      const body = request({ op: "Replace", path: `${ENTERPRISE}:manager`, value });
      expect(applied(user, body).doc[ENTERPRISE], show(body)).toEqual({ department: "R&D" });
    }
  });

  it("accepts URN-qualified core attribute paths", () => {
    const body = request({ op: "Replace", path: `${CORE}:userName`, value: "barbara@example.com" });
    expect(applied(storedUser(), body).doc.userName, show(body)).toBe("barbara@example.com");
  });

  it("accepts roles given as JSON strings", () => {
    const body = request({ op: "Add", path: "roles", value: ['{"value":"Admin","primary":"True"}', "Reader"] });
    expect(applied(storedUser(), body).doc.roles, show(body)).toEqual([{ value: "Admin", primary: true }, { value: "Reader" }]);
  });
});

describe("Entra ID aadOptscim062020 dialect", () => {
  it("applies a lowercase path-less replace whose keys are paths", () => {
    const body = {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [
        {
          op: "replace",
          value: {
            displayName: "Barbara J.",
            "name.givenName": "Barbara Jane",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
            active: false,
          },
        },
      ],
    };
    const out = applied(storedUser(), body);
    expect(out.doc, show(body)).toEqual({
      ...storedUser(),
      schemas: [CORE, ENTERPRISE],
      displayName: "Barbara J.",
      name: { familyName: "Jensen", givenName: "Barbara Jane" },
      active: false,
      [ENTERPRISE]: { employeeNumber: "42" },
    });
  });

  it("accepts value-filter paths as keys of a path-less value", () => {
    const body = request({ op: "replace", value: { 'emails[type eq "work"].value': "jane@example.com", 'phoneNumbers[type eq "work"].value': "+1 555 0101" } });
    const out = applied(storedUser(), body);
    expect(out.doc.emails, show(body)).toEqual([{ value: "jane@example.com", type: "work", primary: true }]);
    expect(out.doc.phoneNumbers, show(body)).toEqual([{ value: "+1 555 0101", type: "work" }]);
  });

  it("ignores unknown keys in a path-less value, as POST/PUT do", () => {
    const body = request({ op: "replace", value: { customAttribute: "x", "name.nickname": "y", title: "CTO" } });
    expect(applied(storedUser(), body).doc, show(body)).toEqual({ ...storedUser(), title: "CTO" });
  });
});

describe("value-filter paths (RFC 7644 §3.5.2; Entra ID)", () => {
  it("creates the element a filter describes when none matches, and merges later ops into it", () => {
    const body = request(
      { op: "Add", path: 'emails[type eq "work"].value', value: "w@example.com" },
      { op: "Add", path: 'emails[type eq "work"].primary', value: "True" },
    );
    const out = applied(storedUser({ emails: [{ value: "h@example.com", type: "home", primary: true }] }), body);
    expect(out.doc.emails, show(body)).toEqual([
      { value: "h@example.com", type: "home", primary: false },
      { value: "w@example.com", type: "work", primary: true },
    ]);
  });

  it("creates the attribute itself when the user has none", () => {
    const body = request({ op: "Replace", path: 'phoneNumbers[type eq "mobile"].value', value: "+1 555 0100" });
    expect(applied(storedUser(), body).doc.phoneNumbers, show(body)).toEqual([{ value: "+1 555 0100", type: "mobile" }]);
  });

  it("sets the sub-attribute on every matching element", () => {
    const user = storedUser({ emails: [{ value: "a", type: "work" }, { value: "b", type: "WORK" }, { value: "c", type: "home" }] });
    const body = request({ op: "replace", path: 'emails[type eq "work"].display', value: "Work" });
    expect(applied(user, body).doc.emails, show(body)).toEqual([
      { value: "a", display: "Work", type: "work" },
      { value: "b", display: "Work", type: "WORK" },
      { value: "c", type: "home" },
    ]);
  });

  it("replaces matching elements whole, keeping what the filter pins down", () => {
    const user = storedUser({ addresses: [{ streetAddress: "old", locality: "X", type: "work" }] });
    const body = request({ op: "replace", path: 'addresses[type eq "work"]', value: { streetAddress: "911 Universal City Plaza" } });
    expect(applied(user, body).doc.addresses, show(body)).toEqual([{ streetAddress: "911 Universal City Plaza", type: "work" }]);
  });

  it("merges into matching elements on add", () => {
    const user = storedUser({ addresses: [{ streetAddress: "old", locality: "X", type: "work" }] });
    const body = request({ op: "add", path: 'addresses[type eq "work"]', value: { streetAddress: "new" } });
    expect(applied(user, body).doc.addresses, show(body)).toEqual([{ streetAddress: "new", locality: "X", type: "work" }]);
  });

  it("answers noTarget when nothing matches and the filter does not describe an element", () => {
    rejected(storedUser(), request({ op: "replace", path: 'emails[value co "zzz"].type', value: "work" }), "noTarget");
  });

  it("answers invalidPath to a filter on a single-valued attribute or on an unknown sub-attribute", () => {
    rejected(storedUser(), request({ op: "replace", path: 'name[givenName eq "x"].familyName', value: "y" }), "invalidPath");
    rejected(storedUser(), request({ op: "remove", path: 'emails[kind eq "work"]' }), "invalidPath", "kind");
    rejected(storedUser(), request({ op: "replace", path: 'emails[type eq "work"].colour', value: "red" }), "invalidPath", "colour");
  });

  it("checks values set through a filter like POST values", () => {
    rejected(storedUser(), request({ op: "replace", path: 'emails[type eq "work"].primary', value: "yes" }), "invalidValue");
    rejected(storedUser(), request({ op: "replace", path: 'emails[type eq "work"].value', value: 7 }), "invalidValue");
  });
});

describe("add (RFC 7644 §3.5.2.1)", () => {
  it("appends to a multi-valued attribute, and a new primary demotes the old one", () => {
    const body = request({ op: "add", path: "emails", value: [{ value: "b@example.com", type: "home", primary: true }] });
    expect(applied(storedUser(), body).doc.emails, show(body)).toEqual([
      { value: "bjensen@example.com", type: "work", primary: false },
      { value: "b@example.com", type: "home", primary: true },
    ]);
  });

  it("changes nothing when the value is already there", () => {
    for (const body of [
      request({ op: "add", path: "emails", value: [{ value: "bjensen@example.com", type: "work", primary: true }] }),
      request({ op: "add", path: "emails", value: [{ value: "bjensen@example.com" }] }),
      request({ op: "add", path: "active", value: true }),
      request({ op: "add", path: "name", value: { givenName: "Barbara" } }),
      request({ op: "replace", path: "userName", value: "bjensen@example.com" }),
      request({ op: "add", value: { displayName: "Babs Jensen" } }),
    ]) {
      const out = applied(storedUser(), body);
      expect(out.changed, show(body)).toBe(false);
      expect(out.doc, show(body)).toEqual(storedUser());
    }
  });

  it("merges sub-attributes into a complex attribute", () => {
    const body = request({ op: "add", path: "name", value: { middleName: "Jane" } });
    expect(applied(storedUser(), body).doc.name, show(body)).toEqual({ familyName: "Jensen", givenName: "Barbara", middleName: "Jane" });
  });

  it("replaces a single-valued attribute", () => {
    const body = request({ op: "add", path: "displayName", value: "B. Jensen" });
    expect(applied(storedUser(), body).doc.displayName, show(body)).toBe("B. Jensen");
  });

  it("answers invalidValue to two primaries in one value", () => {
    const body = request({ op: "add", path: "emails", value: [{ value: "x", primary: true }, { value: "y", primary: true }] });
    rejected(storedUser(), body, "invalidValue");
  });
});

describe("replace (RFC 7644 §3.5.2.3)", () => {
  it("replaces all values of a multi-valued attribute", () => {
    const body = request({ op: "replace", path: "emails", value: [{ value: "only@example.com", type: "other" }] });
    expect(applied(storedUser(), body).doc.emails, show(body)).toEqual([{ value: "only@example.com", type: "other" }]);
  });

  it("merges a complex attribute: unnamed sub-attributes stay", () => {
    const body = request({ op: "replace", value: { name: { givenName: "Barb" } } });
    expect(applied(storedUser(), body).doc.name, show(body)).toEqual({ familyName: "Jensen", givenName: "Barb" });
  });

  it("unassigns with a null value", () => {
    for (const body of [
      request({ op: "replace", path: "displayName", value: null }),
      request({ op: "replace", value: { displayName: null } }),
    ]) {
      expect(applied(storedUser(), body).doc, show(body)).not.toHaveProperty("displayName");
    }
    const body = request({ op: "replace", path: "name.givenName", value: null });
    expect(applied(storedUser(), body).doc.name, show(body)).toEqual({ familyName: "Jensen" });
  });

  it("looks attribute names up in any case and stores the schema's spelling", () => {
    const body = request(
      { op: "replace", path: "ACTIVE", value: false },
      { op: "replace", path: "Name.GivenName", value: "B" },
      { op: "replace", path: 'EMAILS[TYPE eq "work"].VALUE', value: "new@example.com" },
      { op: "replace", path: `${ENTERPRISE.toUpperCase()}:EmployeeNumber`, value: "9" },
    );
    const out = applied(storedUser(), body);
    expect(out.doc, show(body)).toEqual({
      ...storedUser(),
      schemas: [CORE, ENTERPRISE],
      active: false,
      name: { familyName: "Jensen", givenName: "B" },
      emails: [{ value: "new@example.com", type: "work", primary: true }],
      [ENTERPRISE]: { employeeNumber: "9" },
    });
  });

  it("applies userName's rules from POST: NFC, no control characters, not empty", () => {
    const body = request({ op: "replace", path: "userName", value: "Rene\u0301@example.com" });
    expect(applied(storedUser(), body).doc.userName, show(body)).toBe("Ren\u00e9@example.com");
    rejected(storedUser(), request({ op: "replace", path: "userName", value: "" }), "invalidValue");
    rejected(storedUser(), request({ op: "replace", path: "userName", value: "a\u200bb" }), "invalidValue");
    rejected(storedUser(), request({ op: "replace", path: "userName", value: "x".repeat(257) }), "invalidValue");
    rejected(storedUser(), request({ op: "replace", path: "userName", value: 123 }), "invalidValue");
  });

  it("answers invalidValue to wrong value types", () => {
    rejected(storedUser(), request({ op: "replace", path: "emails", value: "x" }), "invalidValue");
    rejected(storedUser(), request({ op: "replace", path: "name", value: "Barbara" }), "invalidValue");
    rejected(storedUser(), request({ op: "replace", path: "title", value: { a: 1 } }), "invalidValue");
  });
});

describe("remove (RFC 7644 §3.5.2.2)", () => {
  it("removes an attribute, a sub-attribute, and the elements a filter selects", () => {
    const user = storedUser({ emails: [{ value: "a", type: "work" }, { value: "b", type: "home" }] });
    expect(applied(user, request({ op: "remove", path: "displayName" })).doc).not.toHaveProperty("displayName");
    expect(applied(user, request({ op: "remove", path: "name.givenName" })).doc.name).toEqual({ familyName: "Jensen" });
    expect(applied(user, request({ op: "remove", path: 'emails[type eq "work"]' })).doc.emails).toEqual([{ value: "b", type: "home" }]);
    expect(applied(user, request({ op: "remove", path: 'emails[type eq "home"].type' })).doc.emails).toEqual([
      { value: "a", type: "work" },
      { value: "b" },
    ]);
  });

  it("drops the attribute once its last element or sub-attribute is removed", () => {
    const body = request({ op: "remove", path: 'emails[type eq "work"]' }, { op: "remove", path: "name.givenName" }, { op: "remove", path: "name.familyName" });
    const out = applied(storedUser(), body);
    expect(out.doc, show(body)).not.toHaveProperty("emails");
    expect(out.doc, show(body)).not.toHaveProperty("name");
  });

  it("is a no-op, not an error, when nothing matches", () => {
    for (const body of [
      request({ op: "remove", path: 'emails[type eq "other"]' }),
      request({ op: "remove", path: "title" }),
      request({ op: "remove", path: `${ENTERPRISE}:manager` }),
    ]) {
      const out = applied(storedUser(), body);
      expect(out.changed, show(body)).toBe(false);
    }
  });

  it("removes only the values listed when given a value array", () => {
    const user = storedUser({ emails: [{ value: "a", type: "work" }, { value: "b", type: "home" }] });
    const body = request({ op: "Remove", path: "emails", value: [{ value: "A" }] });
    expect(applied(user, body).doc.emails, show(body)).toEqual([{ value: "b", type: "home" }]);
  });

  it("answers invalidValue to removing the required userName", () => {
    rejected(storedUser(), request({ op: "remove", path: "userName" }), "invalidValue", "userName");
    rejected(storedUser(), request({ op: "replace", path: "userName", value: null }), "invalidValue", "userName");
  });
});

describe("refusals", () => {
  it.each([
    ["id", { op: "replace", path: "id", value: "x" }],
    ["id, even unchanged", { op: "replace", path: "id", value: USER_ID }],
    ["meta", { op: "replace", path: "meta", value: { resourceType: "User" } }],
    ["meta.lastModified", { op: "replace", path: "meta.lastModified", value: "2024-01-01T00:00:00Z" }],
    ["remove meta", { op: "remove", path: "meta" }],
    ["groups", { op: "add", path: "groups", value: [{ value: "g1" }] }],
    ["groups, path-less", { op: "add", value: { groups: [{ value: "g1" }] } }],
    ["manager.displayName", { op: "replace", path: `${ENTERPRISE}:manager.displayName`, value: "Boss" }],
    ["schemas", { op: "replace", path: "schemas", value: [CORE] }],
  ])("answers mutability to a PATCH of %s", (_, op) => {
    rejected(storedUser(), request(op), "mutability");
  });

  it.each([["nick"], ["name.nickName"], ["urn:example:custom:1.0:User:level"], ["members"]])("answers invalidPath to the unknown path %s", (path) => {
    rejected(storedUser(), request({ op: "replace", path, value: "x" }), "invalidPath", path.split(".").pop());
  });

  it("names the failing operation and its path in the detail", () => {
    rejected(storedUser(), request({ op: "add", path: "title", value: "x" }, { op: "replace", path: "active", value: "yes" }), "invalidValue", 'Operation 2 (replace "active")');
  });
});

describe("atomicity and safety", () => {
  it("fails the whole request when a later operation fails, leaving the input untouched", () => {
    const user = storedUser();
    const before = structuredClone(user);
    const body = request({ op: "replace", path: "displayName", value: "Changed" }, { op: "replace", path: "id", value: "x" });
    const ops = parsePatchRequest(body);
    if (!ops.ok) throw ops.error;
    const r = applyPatch("User", user, ops.value, USER_ID);
    expect(r.ok, show(body)).toBe(false);
    expect(user, "input document after a failed PATCH").toEqual(before);
  });

  it("never modifies the input document on success either", () => {
    const user = storedUser();
    const before = structuredClone(user);
    const ops = parsePatchRequest(request({ op: "add", path: "emails", value: [{ value: "n", primary: true }] }));
    if (!ops.ok) throw ops.error;
    const out = applyPatch("User", user, ops.value, USER_ID);
    expect(out.ok).toBe(true);
    expect(user).toEqual(before);
  });

  it("never lets __proto__ in a value pollute prototypes or reach the document", () => {
    const body: unknown = JSON.parse(
      `{"schemas":["${PATCH_OP}"],"Operations":[` +
        `{"op":"replace","path":"name","value":{"__proto__":{"polluted":true},"givenName":"X"}},` +
        `{"op":"add","path":"emails","value":[{"__proto__":{"polluted":true},"value":"p@example.com"}]},` +
        `{"op":"replace","value":{"__proto__":{"polluted":true},"title":"T"}}]}`,
    );
    const out = applied(storedUser(), body);
    expect(({} as Record<string, unknown>).polluted, show(body)).toBeUndefined();
    expect(Object.getPrototypeOf(out.doc.name)).toBe(Object.prototype);
    expect(Object.keys(out.doc.name as object)).toEqual(["familyName", "givenName"]);
    expect(out.doc.emails).toEqual([
      { value: "bjensen@example.com", type: "work", primary: true },
      { value: "p@example.com" },
    ]);
    expect(out.doc.title).toBe("T");
  });
});
