import { describe, expect, it } from "vitest";
import type { Result } from "../../src/scim/errors";
import {
  ENTERPRISE_USER_SCHEMA_URN,
  ENTRA_GROUP_SCHEMA_URN,
  GROUP_SCHEMA_URN,
  USER_SCHEMA_URN,
  canonicalName,
  coerceBoolean,
  findAttribute,
  parseAttributeValue,
  parseResource,
  splitUrnPath,
  uniquenessKey,
  type AttributeDefinition,
  type ScimDocument,
} from "../../src/scim/schema";

const show = (v: unknown): string => JSON.stringify(v);

/** Asserts success and returns the document. */
function accepted(result: Result<ScimDocument>, input: unknown): ScimDocument {
  if (!result.ok) throw new Error(`expected ${show(input)} to be accepted, got ${result.error.status} ${result.error.scimType}: ${result.error.message}`);
  return result.value;
}

/** Asserts a 400 with the given scimType and, when given, a detail mentioning `mentions`. */
function rejected(result: Result<unknown>, scimType: string, input: unknown, mentions?: string): void {
  if (result.ok) throw new Error(`expected ${show(input)} to be rejected with ${scimType}, got ${show(result.value)}`);
  expect(result.error.status, `status for ${show(input)}`).toBe(400);
  expect(result.error.scimType, `scimType for ${show(input)}: ${result.error.message}`).toBe(scimType);
  if (mentions !== undefined) expect(result.error.message, `detail for ${show(input)}`).toContain(mentions);
}

const user = (extra: Record<string, unknown>): Record<string, unknown> => ({
  schemas: [USER_SCHEMA_URN],
  userName: "alice@example.com",
  ...extra,
});
const group = (extra: Record<string, unknown>): Record<string, unknown> => ({
  schemas: [GROUP_SCHEMA_URN],
  displayName: "Engineering",
  ...extra,
});

describe("IdP create bodies", () => {
  it("accepts Okta's POST /Users body and stores neither password nor groups", () => {
    const body = {
      schemas: [USER_SCHEMA_URN],
      userName: "test.user@okta.local",
      name: { givenName: "Test", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
      displayName: "Test User",
      locale: "en-US",
      externalId: "00ujl29u0le5T6Aj10h7",
      groups: [],
      password: "1mz050nq",
      active: true,
    };
    const doc = accepted(parseResource("User", body), body);
    expect(doc, `Okta body ${show(body)}`).toEqual({
      schemas: [USER_SCHEMA_URN],
      userName: "test.user@okta.local",
      name: { givenName: "Test", familyName: "User" },
      emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
      displayName: "Test User",
      locale: "en-US",
      externalId: "00ujl29u0le5T6Aj10h7",
      active: true,
    });
    expect("password" in doc, `password stored from ${show(body)}`).toBe(false);
  });

  it("accepts Entra ID's POST /Users body (enterprise URN, meta, roles: [], addresses: null)", () => {
    const body = {
      schemas: [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN],
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
      userName: "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
      active: true,
      emails: [{ primary: true, type: "work", value: "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com" }],
      meta: { resourceType: "User" },
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      roles: [],
      addresses: null,
    };
    const doc = accepted(parseResource("User", body), body);
    expect(doc, `Entra body ${show(body)}`).toEqual({
      schemas: [USER_SCHEMA_URN],
      userName: "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
      name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
      active: true,
      emails: [{ value: "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com", type: "work", primary: true }],
      externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    });
    expect("meta" in doc || "roles" in doc || "addresses" in doc || "password" in doc, show(doc)).toBe(false);
  });

  it("keeps Entra's enterprise extension data and lists its URN in schemas", () => {
    const body = {
      schemas: [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN],
      userName: "bjensen@example.com",
      "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {
        EmployeeNumber: "701984",
        department: "Tour Operations",
        manager: "26118915-6090-4610-87e4-49d8ca9f808d",
      },
    };
    const doc = accepted(parseResource("User", body), body);
    expect(doc, show(body)).toEqual({
      schemas: [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN],
      userName: "bjensen@example.com",
      [ENTERPRISE_USER_SCHEMA_URN]: {
        employeeNumber: "701984",
        department: "Tour Operations",
        manager: { value: "26118915-6090-4610-87e4-49d8ca9f808d" },
      },
    });
  });

  it("accepts Okta's group push body with members: []", () => {
    const body = { schemas: [GROUP_SCHEMA_URN], displayName: "Sales", members: [] };
    expect(accepted(parseResource("Group", body), body), show(body)).toEqual({ schemas: [GROUP_SCHEMA_URN], displayName: "Sales" });
  });

  it("accepts Entra's group body with the ADSCIM extra schema and drops that URN", () => {
    const body = { schemas: [GROUP_SCHEMA_URN, ENTRA_GROUP_SCHEMA_URN], externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", displayName: "Group1" };
    expect(accepted(parseResource("Group", body), body), show(body)).toEqual({
      schemas: [GROUP_SCHEMA_URN],
      displayName: "Group1",
      externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    });
  });

  it("accepts Okta's PUT body and ignores its readOnly id, meta and groups", () => {
    const body = user({
      id: "23a35c27-23d3-4c03-b4c5-6443c09e7173",
      meta: { resourceType: "User", created: "2024-01-01T00:00:00Z" },
      groups: [{ value: "g1", display: "Admins" }],
      active: false,
    });
    expect(accepted(parseResource("User", body), body), show(body)).toEqual({
      schemas: [USER_SCHEMA_URN],
      userName: "alice@example.com",
      active: false,
    });
  });
});

describe("schemas", () => {
  it.each([
    ["a JSON array", [user({})]],
    ["null", null],
    ["a string", "userName=alice"],
    ["no schemas", { userName: "alice" }],
    ["schemas as a string", { schemas: USER_SCHEMA_URN, userName: "alice" }],
    ["a non-string URN", { schemas: [USER_SCHEMA_URN, 7], userName: "alice" }],
    ["no core URN", { schemas: [ENTERPRISE_USER_SCHEMA_URN], userName: "alice" }],
  ])("rejects a body with %s as invalidSyntax", (_label, body) => {
    rejected(parseResource("User", body), "invalidSyntax", body);
  });

  it("rejects a User body naming the Group schema as invalidValue", () => {
    const body = user({ schemas: [USER_SCHEMA_URN, GROUP_SCHEMA_URN] });
    rejected(parseResource("User", body), "invalidValue", body, GROUP_SCHEMA_URN);
  });

  it("rejects an unknown schema URN as invalidValue", () => {
    const body = user({ schemas: [USER_SCHEMA_URN, "urn:example:custom:1.0:User"] });
    rejected(parseResource("User", body), "invalidValue", body, "urn:example:custom:1.0:User");
  });

  it("does not tolerate the Entra group URN on users", () => {
    const body = user({ schemas: [USER_SCHEMA_URN, ENTRA_GROUP_SCHEMA_URN] });
    rejected(parseResource("User", body), "invalidValue", body);
  });

  it("matches schema URNs and the `schemas` key in any case", () => {
    const body = { Schemas: [USER_SCHEMA_URN.toUpperCase()], userName: "alice" };
    expect(accepted(parseResource("User", body), body).schemas, show(body)).toEqual([USER_SCHEMA_URN]);
  });

  it("lists the enterprise URN only when extension data is present", () => {
    const body = user({ schemas: [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN], [ENTERPRISE_USER_SCHEMA_URN]: { department: null } });
    expect(accepted(parseResource("User", body), body), show(body)).toEqual({ schemas: [USER_SCHEMA_URN], userName: "alice@example.com" });
  });

  it("accepts extension data whose URN is missing from schemas, and adds it", () => {
    const body = user({ [ENTERPRISE_USER_SCHEMA_URN]: { costCenter: "4130" } });
    expect(accepted(parseResource("User", body), body).schemas, show(body)).toEqual([USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN]);
  });

  it("rejects an extension value that is not an object", () => {
    const body = user({ [ENTERPRISE_USER_SCHEMA_URN]: "4130" });
    rejected(parseResource("User", body), "invalidValue", body, ENTERPRISE_USER_SCHEMA_URN);
  });
});

describe("attribute names (RFC 7643 §2.1)", () => {
  it("accepts UserName and stores it as userName", () => {
    const body = { schemas: [USER_SCHEMA_URN], UserName: "alice", NAME: { GIVENNAME: "Alice" }, Emails: [{ VALUE: "a@x.io", Primary: "True" }] };
    expect(accepted(parseResource("User", body), body), show(body)).toEqual({
      schemas: [USER_SCHEMA_URN],
      userName: "alice",
      name: { givenName: "Alice" },
      emails: [{ value: "a@x.io", primary: true }],
    });
  });

  it("accepts URN-qualified core and extension names at the top level", () => {
    const body = {
      schemas: [USER_SCHEMA_URN],
      [`${USER_SCHEMA_URN}:userName`]: "alice",
      [`${ENTERPRISE_USER_SCHEMA_URN}:employeeNumber`]: "42",
    };
    expect(accepted(parseResource("User", body), body), show(body)).toEqual({
      schemas: [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN],
      userName: "alice",
      [ENTERPRISE_USER_SCHEMA_URN]: { employeeNumber: "42" },
    });
  });

  it("rejects the same attribute twice in different cases as invalidSyntax", () => {
    const body = user({ USERNAME: "bob" });
    rejected(parseResource("User", body), "invalidSyntax", body, "USERNAME");
  });

  it("ignores unknown attributes and unknown sub-attributes", () => {
    const body = user({ favouriteColour: "blue", name: { givenName: "A", nickname: "x" }, "name.familyName": "B" });
    expect(accepted(parseResource("User", body), body), show(body)).toEqual({
      schemas: [USER_SCHEMA_URN],
      userName: "alice@example.com",
      name: { givenName: "A" },
    });
  });

  it("treats null values as absent, at every level", () => {
    const body = user({ displayName: null, name: { givenName: null }, emails: [null, { value: "a@x.io", type: null }] });
    expect(accepted(parseResource("User", body), body), show(body)).toEqual({
      schemas: [USER_SCHEMA_URN],
      userName: "alice@example.com",
      emails: [{ value: "a@x.io" }],
    });
  });
});

describe("prototype pollution", () => {
  it("drops __proto__, constructor and prototype keys from a raw JSON body without polluting", () => {
    const raw =
      `{"schemas":["${USER_SCHEMA_URN}"],"userName":"alice","__proto__":{"polluted":"yes","userName":"mallory"},` +
      `"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"},` +
      `"name":{"__proto__":{"polluted":"yes"},"givenName":"A"},"emails":[{"__proto__":{"primary":true},"value":"a@x.io"}],` +
      `"roles":["{\\"__proto__\\":{\\"polluted\\":\\"yes\\"},\\"value\\":\\"Admin\\"}"],` +
      `"${ENTERPRISE_USER_SCHEMA_URN}":{"__proto__":{"polluted":"yes"},"department":"D"}}`;
    const body: unknown = JSON.parse(raw);
    const doc = accepted(parseResource("User", body), raw);
    expect(doc, raw).toEqual({
      schemas: [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN],
      userName: "alice",
      name: { givenName: "A" },
      emails: [{ value: "a@x.io" }],
      roles: [{ value: "Admin" }],
      [ENTERPRISE_USER_SCHEMA_URN]: { department: "D" },
    });
    const probe: Record<string, unknown> = {};
    expect(probe.polluted, "Object.prototype polluted").toBeUndefined();
    expect(Object.getPrototypeOf(doc), "doc prototype").toBe(Object.prototype);
    expect(Object.getPrototypeOf(doc.name), "name prototype").toBe(Object.prototype);
    expect(Object.keys(doc), "doc keys").not.toContain("__proto__");
    expect(JSON.stringify(doc), "serialised doc").not.toContain("polluted");
  });
});

describe("type checks (400 invalidValue naming the attribute)", () => {
  it.each([
    ["userName: 123", { userName: 123 }, "userName"],
    ["active: \"yes\"", { active: "yes" }, "active"],
    ["active: 1", { active: 1 }, "active"],
    ["emails: \"x\"", { emails: "x" }, "emails"],
    ["emails: [\"x\"]", { emails: ["x"] }, "emails[0]"],
    ["name: \"x\"", { name: "Alice Smith" }, "name"],
    ["name.givenName: 5", { name: { givenName: 5 } }, "name.givenName"],
    ["displayName: {}", { displayName: {} }, "displayName"],
    ["displayName: []", { displayName: [] }, "displayName"],
    ["emails[0].primary: \"yes\"", { emails: [{ value: "a@x.io", primary: "yes" }] }, "emails[0].primary"],
    ["title: true", { title: true }, "title"],
    ["phoneNumbers[1]: 42", { phoneNumbers: [{ value: "1" }, 42] }, "phoneNumbers[1]"],
    ["enterprise department: 7", { [ENTERPRISE_USER_SCHEMA_URN]: { department: 7 } }, `${ENTERPRISE_USER_SCHEMA_URN}:department`],
    ["manager: 7", { [ENTERPRISE_USER_SCHEMA_URN]: { manager: 7 } }, `${ENTERPRISE_USER_SCHEMA_URN}:manager`],
  ])("rejects %s", (_label, extra, attribute) => {
    const body = user(extra);
    rejected(parseResource("User", body), "invalidValue", body, `"${attribute}"`);
  });

  it.each([
    ["True", true],
    ["False", false],
    ["true", true],
    ["false", false],
    [true, true],
    [false, false],
  ])("accepts active: %j as %j (Entra ID sends strings)", (input, expected) => {
    const body = user({ active: input });
    expect(accepted(parseResource("User", body), body).active, show(body)).toBe(expected);
  });

  it("wraps a lone object given for a multi-valued attribute into an array", () => {
    const body = user({ emails: { value: "a@x.io", type: "work" } });
    expect(accepted(parseResource("User", body), body).emails, show(body)).toEqual([{ value: "a@x.io", type: "work" }]);
  });

  it("accepts empty arrays and stores nothing for them (RFC 7643 §2.5)", () => {
    const body = user({ emails: [], phoneNumbers: [], roles: [], addresses: [] });
    expect(accepted(parseResource("User", body), body), show(body)).toEqual({ schemas: [USER_SCHEMA_URN], userName: "alice@example.com" });
  });

  it("rejects two primary: true values in one attribute", () => {
    const body = user({ emails: [{ value: "a@x.io", primary: true }, { value: "b@x.io", primary: "True" }] });
    rejected(parseResource("User", body), "invalidValue", body, "emails");
  });

  it("allows one primary per attribute across different attributes", () => {
    const body = user({ emails: [{ value: "a@x.io", primary: true }, { value: "b@x.io", primary: false }], phoneNumbers: [{ value: "1", primary: true }] });
    accepted(parseResource("User", body), body);
  });

  it("keeps a full address with its sub-attributes", () => {
    const address = { formatted: "100 Universal City Plaza", streetAddress: "100 Universal City Plaza", locality: "Hollywood", region: "CA", postalCode: "91608", country: "US", type: "work", primary: true };
    const body = user({ addresses: [address] });
    expect(accepted(parseResource("User", body), body).addresses, show(body)).toEqual([address]);
  });

  it("keeps externalId exactly as sent (caseExact)", () => {
    const body = user({ externalId: "ABC" });
    expect(accepted(parseResource("User", body), body).externalId, show(body)).toBe("ABC");
  });
});

describe("Entra ID value shapes", () => {
  it("turns roles given as plain strings and JSON-object strings into complex values", () => {
    const body = user({ roles: ["Admin", '{"value":"Reader","primary":"True","type":"WindowsAzureActiveDirectoryRole"}', "{not json", { value: "Writer" }] });
    expect(accepted(parseResource("User", body), body).roles, show(body)).toEqual([
      { value: "Admin" },
      { value: "Reader", type: "WindowsAzureActiveDirectoryRole", primary: true },
      { value: "{not json" },
      { value: "Writer" },
    ]);
  });

  it("turns a bare-string manager into {value} and ignores the readOnly manager.displayName", () => {
    const bare = user({ [ENTERPRISE_USER_SCHEMA_URN]: { manager: "2c2f" } });
    expect(accepted(parseResource("User", bare), bare)[ENTERPRISE_USER_SCHEMA_URN], show(bare)).toEqual({ manager: { value: "2c2f" } });
    const full = user({ [ENTERPRISE_USER_SCHEMA_URN]: { manager: { value: "2c2f", displayName: "Boss", $ref: "../Users/2c2f" } } });
    expect(accepted(parseResource("User", full), full)[ENTERPRISE_USER_SCHEMA_URN], show(full)).toEqual({
      manager: { value: "2c2f", $ref: "../Users/2c2f" },
    });
  });

  it("treats an empty manager string as no manager", () => {
    const body = user({ [ENTERPRISE_USER_SCHEMA_URN]: { manager: "" } });
    expect(accepted(parseResource("User", body), body), show(body)).toEqual({ schemas: [USER_SCHEMA_URN], userName: "alice@example.com" });
  });
});

describe("userName and group displayName", () => {
  const invalid: [string, unknown][] = [
    ["missing", undefined],
    ["null", null],
    ["a number", 123],
    ["empty", ""],
    ["blank", "   \t "],
    ["257 characters", "a".repeat(257)],
    ["a NUL", "ali\u0000ce"],
    ["a newline", "alice\nadmin"],
    ["DEL", "alice\u007f"],
    ["a C1 control", "alice\u0085"],
    ["a zero-width space", "al\u200bice"],
    ["a right-to-left mark", "alice\u200f"],
    ["a bidi override", "\u202egpj.exe"],
    ["a word joiner", "ali\u2060ce"],
    ["a BOM", "\ufeffalice"],
  ];

  it.each(invalid)("rejects a userName that is %s", (_label, userName) => {
    const body = { schemas: [USER_SCHEMA_URN], ...(userName === undefined ? {} : { userName }) };
    rejected(parseResource("User", body), "invalidValue", body, "userName");
  });

  it.each(invalid)("rejects a group displayName that is %s", (_label, displayName) => {
    const body = { schemas: [GROUP_SCHEMA_URN], ...(displayName === undefined ? {} : { displayName }) };
    rejected(parseResource("Group", body), "invalidValue", body, "displayName");
  });

  it("accepts a 256-character userName (counted in code points)", () => {
    const long = "a".repeat(255) + "😀";
    const body = user({ userName: long });
    expect(accepted(parseResource("User", body), body).userName, show(body)).toBe(long);
  });

  it("normalises userName and displayName to NFC", () => {
    const nfd = "Jose\u0301";
    const u = user({ userName: nfd, displayName: nfd });
    const doc = accepted(parseResource("User", u), u);
    expect(doc.userName, `userName from ${show(u)}`).toBe("Jos\u00e9");
    // A user's displayName is not an identifier: kept as sent.
    expect(doc.displayName, `user displayName from ${show(u)}`).toBe(nfd);
    const g = group({ displayName: nfd });
    expect(accepted(parseResource("Group", g), g).displayName, show(g)).toBe("Jos\u00e9");
  });

  it("keeps surrounding spaces and case as sent", () => {
    const body = user({ userName: " Alice " });
    expect(accepted(parseResource("User", body), body).userName, show(body)).toBe(" Alice ");
  });
});

describe("groups", () => {
  it("accepts members with value, display, type and a null $ref (Entra)", () => {
    const body = group({ members: [{ $ref: null, value: "f648" }, { value: "89bb", display: "Bob", type: "User" }] });
    expect(accepted(parseResource("Group", body), body).members, show(body)).toEqual([{ value: "f648" }, { value: "89bb", display: "Bob", type: "User" }]);
  });

  it("rejects a member without a value", () => {
    const body = group({ members: [{ display: "Bob" }] });
    rejected(parseResource("Group", body), "invalidValue", body, "members[0].value");
  });

  it("wraps a lone member object", () => {
    const body = group({ members: { value: "89bb" } });
    expect(accepted(parseResource("Group", body), body).members, show(body)).toEqual([{ value: "89bb" }]);
  });

  it("ignores User attributes sent to a group", () => {
    const body = group({ userName: "alice", active: true });
    expect(accepted(parseResource("Group", body), body), show(body)).toEqual({ schemas: [GROUP_SCHEMA_URN], displayName: "Engineering" });
  });
});

describe("parseAttributeValue (PATCH values)", () => {
  const dateTime: AttributeDefinition = {
    name: "when",
    type: "dateTime",
    multiValued: false,
    description: "",
    required: false,
    caseExact: false,
    mutability: "readWrite",
    returned: "default",
    uniqueness: "none",
  };

  it.each(["2011-05-13T04:42:34Z", "2024-02-29T23:59:59.123+02:00", "2024-01-01T00:00:00"])("accepts the dateTime %s", (v) => {
    const r = parseAttributeValue(dateTime, v);
    expect(r, v).toEqual({ ok: true, value: v });
  });

  it.each(["1", "yesterday", "2024-13-45T99:00:00Z", 1700000000])("rejects the dateTime %j", (v) => {
    rejected(parseAttributeValue(dateTime, v), "invalidValue", v, "when");
  });

  it("applies multi-valued, boolean and identifier rules to a single attribute", () => {
    const emails = findAttribute("User", { attr: "emails" })?.attribute;
    const active = findAttribute("User", { attr: "active" })?.attribute;
    const userName = findAttribute("User", { attr: "userName" })?.attribute;
    if (!emails || !active || !userName) throw new Error("attributes missing");
    expect(parseAttributeValue(active, "False"), 'active "False"').toEqual({ ok: true, value: false });
    expect(parseAttributeValue(emails, { value: "a@x.io" }), "lone email").toEqual({ ok: true, value: [{ value: "a@x.io" }] });
    rejected(parseAttributeValue(userName, "a\u200bb"), "invalidValue", "a\u200bb", "userName");
  });
});

describe("coerceBoolean and uniquenessKey", () => {
  it.each([
    [true, true],
    [false, false],
    ["True", true],
    ["FALSE", false],
    ["yes", undefined],
    [1, undefined],
    [null, undefined],
  ])("coerceBoolean(%j) is %j", (input, expected) => {
    expect(coerceBoolean(input), show(input)).toBe(expected);
  });

  it("makes Alice and alice collide", () => {
    expect(uniquenessKey("Alice"), "Alice vs alice").toBe(uniquenessKey("alice"));
  });

  it("makes NFC and NFD é collide", () => {
    expect(uniquenessKey("Jos\u00e9"), "NFC vs NFD").toBe(uniquenessKey("Jose\u0301"));
  });

  it("keeps different names apart", () => {
    expect(uniquenessKey("alice"), "alice vs alicia").not.toBe(uniquenessKey("alicia"));
  });
});

describe("lookup", () => {
  it.each([
    ["userName", { attr: "userName" }],
    ["name.givenName", { attr: "name", sub: "givenName" }],
    [`${USER_SCHEMA_URN}:userName`, { urn: USER_SCHEMA_URN, attr: "userName" }],
    [`${USER_SCHEMA_URN}:name.givenName`, { urn: USER_SCHEMA_URN, attr: "name", sub: "givenName" }],
    [`${ENTERPRISE_USER_SCHEMA_URN}:manager.value`, { urn: ENTERPRISE_USER_SCHEMA_URN, attr: "manager", sub: "value" }],
  ])("splitUrnPath(%s)", (key, expected) => {
    expect(splitUrnPath(key), key).toEqual(expected);
  });

  it.each([
    ["User", "UserName", "userName"],
    ["User", "NAME.GIVENNAME", "name.givenName"],
    ["User", "ID", "id"],
    ["User", "meta.LASTMODIFIED", "meta.lastModified"],
    ["User", "externalid", "externalId"],
    ["User", `${USER_SCHEMA_URN.toUpperCase()}:USERNAME`, "userName"],
    ["User", `${ENTERPRISE_USER_SCHEMA_URN}:EMPLOYEENUMBER`, `${ENTERPRISE_USER_SCHEMA_URN}:employeeNumber`],
    ["User", "employeeNumber", `${ENTERPRISE_USER_SCHEMA_URN}:employeeNumber`],
    ["User", "emails.VALUE", "emails.value"],
    ["User", "members", undefined],
    ["User", "name.nope", undefined],
    ["User", `${GROUP_SCHEMA_URN}:displayName`, undefined],
    ["User", "__proto__", undefined],
    ["Group", "DISPLAYNAME", "displayName"],
    ["Group", "members.Value", "members.value"],
    ["Group", "userName", undefined],
  ] as const)("canonicalName(%s, %s) is %s", (rt, key, expected) => {
    expect(canonicalName(rt, key), `${rt} ${key}`).toBe(expected);
  });

  it("returns the schema, attribute and sub-attribute definitions", () => {
    const match = findAttribute("User", { urn: ENTERPRISE_USER_SCHEMA_URN.toLowerCase(), attr: "MANAGER", sub: "displayname" });
    expect(match?.schema.id, "schema").toBe(ENTERPRISE_USER_SCHEMA_URN);
    expect(match?.attribute.name, "attribute").toBe("manager");
    expect(match?.sub?.mutability, "manager.displayName mutability").toBe("readOnly");
  });
});
