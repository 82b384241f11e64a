import { describe, expect, it } from "vitest";
import {
  ENTERPRISE_USER_SCHEMA_URN,
  GROUP_SCHEMA_URN,
  USER_SCHEMA_URN,
  parseAttributeList,
  projectResource,
  type JsonObject,
  type ProjectionOptions,
} from "../../src/scim/schema";

const show = (v: unknown): string => JSON.stringify(v);

/** A stored user as the storage layer would hand it over (password only to prove it never leaks). */
const storedUser: JsonObject = {
  schemas: [USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN],
  id: "2819c223-7f76-453a-919d-413861904646",
  externalId: "bjensen",
  userName: "bjensen@example.com",
  name: { formatted: "Ms. Barbara J Jensen III", familyName: "Jensen", givenName: "Barbara" },
  displayName: "Babs Jensen",
  active: true,
  password: "t1meMa$heen",
  emails: [
    { value: "bjensen@example.com", type: "work", primary: true },
    { value: "babs@jensen.org", type: "home" },
  ],
  groups: [{ value: "e9e30dba", display: "Tour Guides", type: "direct" }],
  [ENTERPRISE_USER_SCHEMA_URN]: { employeeNumber: "701984", department: "Tour Operations", manager: { value: "26118915", displayName: "John Smith" } },
  meta: { resourceType: "User", created: "2010-01-23T04:56:22Z", lastModified: "2011-05-13T04:42:34Z", version: 'W/"3694e05e9dff591"' },
};

const storedGroup: JsonObject = {
  schemas: [GROUP_SCHEMA_URN],
  id: "e9e30dba-f08f-4109-8486-d5c6a331660a",
  displayName: "Tour Guides",
  members: [{ value: "2819c223", display: "Babs Jensen", type: "User" }],
  meta: { resourceType: "Group", version: 'W/"1"' },
};

function project(doc: JsonObject, options: ProjectionOptions, resourceType: "User" | "Group" = "User"): JsonObject {
  return projectResource(resourceType, doc, options);
}

describe("default projection", () => {
  it("returns every default attribute and never the password", () => {
    const out = project(storedUser, {});
    const { password: _password, ...expected } = storedUser;
    expect(out, `projected ${show(out)}`).toEqual(expected);
    expect("password" in out, "password returned").toBe(false);
  });

  it("drops keys that are not attributes of the schema", () => {
    const out = project({ ...storedUser, secret: "x", tenant_id: "t1" }, {});
    expect("secret" in out || "tenant_id" in out, show(out)).toBe(false);
  });
});

describe("attributes (RFC 7644 §3.4.2.5)", () => {
  it("returns only the named attributes plus id and schemas", () => {
    const out = project(storedUser, { attributes: ["userName"] });
    expect(out, show(out)).toEqual({ schemas: storedUser.schemas, id: storedUser.id, userName: "bjensen@example.com" });
  });

  it("matches names case-insensitively and splits comma-separated entries", () => {
    const out = project(storedUser, { attributes: ["USERNAME, Name.GivenName", "ACTIVE"] });
    expect(out, show(out)).toEqual({
      schemas: storedUser.schemas,
      id: storedUser.id,
      userName: "bjensen@example.com",
      name: { givenName: "Barbara" },
      active: true,
    });
  });

  it("selects a sub-attribute of every value of a multi-valued attribute", () => {
    const out = project(storedUser, { attributes: ["emails.value"] });
    expect(out.emails, show(out)).toEqual([{ value: "bjensen@example.com" }, { value: "babs@jensen.org" }]);
  });

  it("accepts URN-qualified core and extension names", () => {
    const out = project(storedUser, { attributes: [`${USER_SCHEMA_URN}:displayName`, `${ENTERPRISE_USER_SCHEMA_URN}:manager.value`] });
    expect(out, show(out)).toEqual({
      schemas: storedUser.schemas,
      id: storedUser.id,
      displayName: "Babs Jensen",
      [ENTERPRISE_USER_SCHEMA_URN]: { manager: { value: "26118915" } },
    });
  });

  it("returns a whole extension when its URN is named", () => {
    const out = project(storedUser, { attributes: [ENTERPRISE_USER_SCHEMA_URN.toUpperCase()] });
    expect(out[ENTERPRISE_USER_SCHEMA_URN], show(out)).toEqual(storedUser[ENTERPRISE_USER_SCHEMA_URN]);
    expect(Object.keys(out).sort(), show(out)).toEqual(["id", "schemas", ENTERPRISE_USER_SCHEMA_URN].sort());
  });

  it("treats meta like a default attribute: only when named", () => {
    expect("meta" in project(storedUser, { attributes: ["userName"] }), "meta with attributes=userName").toBe(false);
    const out = project(storedUser, { attributes: ["meta.version"] });
    expect(out.meta, show(out)).toEqual({ version: 'W/"3694e05e9dff591"' });
  });

  it("never returns the password, even when asked for", () => {
    const out = project(storedUser, { attributes: ["password", "userName"] });
    expect("password" in out, show(out)).toBe(false);
  });

  it("returns only id and schemas for unknown names", () => {
    const out = project(storedUser, { attributes: ["nope", "name.nope", "__proto__"] });
    expect(out, show(out)).toEqual({ schemas: storedUser.schemas, id: storedUser.id });
  });

  it("omits a requested attribute the resource does not have", () => {
    const out = project(storedUser, { attributes: ["nickName", "phoneNumbers.value"] });
    expect(out, show(out)).toEqual({ schemas: storedUser.schemas, id: storedUser.id });
  });
});

describe("excludedAttributes", () => {
  it("drops Entra's excludedAttributes=members from a group", () => {
    const out = project(storedGroup, { excludedAttributes: ["members"] }, "Group");
    const { members: _members, ...expected } = storedGroup;
    expect(out, show(out)).toEqual(expected);
  });

  it("cannot exclude id (returned always)", () => {
    const out = project(storedGroup, { excludedAttributes: ["id", "displayName"] }, "Group");
    expect(out.id, show(out)).toBe(storedGroup.id);
    expect("displayName" in out, show(out)).toBe(false);
  });

  it("excludes sub-attributes, extension attributes and whole extensions", () => {
    const out = project(storedUser, { excludedAttributes: ["NAME.givenName,emails.type", `${ENTERPRISE_USER_SCHEMA_URN}:manager`] });
    expect(out.name, show(out)).toEqual({ formatted: "Ms. Barbara J Jensen III", familyName: "Jensen" });
    expect(out.emails, show(out)).toEqual([{ value: "bjensen@example.com", primary: true }, { value: "babs@jensen.org" }]);
    expect(out[ENTERPRISE_USER_SCHEMA_URN], show(out)).toEqual({ employeeNumber: "701984", department: "Tour Operations" });
    const noExtension = project(storedUser, { excludedAttributes: [ENTERPRISE_USER_SCHEMA_URN] });
    expect(ENTERPRISE_USER_SCHEMA_URN in noExtension, show(noExtension)).toBe(false);
  });

  it("drops a complex attribute whose sub-attributes are all excluded", () => {
    const out = project(storedGroup, { excludedAttributes: ["members.value", "members.display", "members.type"] }, "Group");
    expect("members" in out, show(out)).toBe(false);
  });

  it("applies exclusions after attributes when both are given", () => {
    const out = project(storedUser, { attributes: ["name"], excludedAttributes: ["name.formatted"] });
    expect(out, show(out)).toEqual({ schemas: storedUser.schemas, id: storedUser.id, name: { familyName: "Jensen", givenName: "Barbara" } });
  });
});

describe("parseAttributeList", () => {
  it.each([
    [undefined, []],
    ["", []],
    ["userName", ["userName"]],
    [" userName , name.givenName,,emails.value ", ["userName", "name.givenName", "emails.value"]],
    [`${ENTERPRISE_USER_SCHEMA_URN}:employeeNumber,members`, [`${ENTERPRISE_USER_SCHEMA_URN}:employeeNumber`, "members"]],
    ['emails[type eq "work"]', ["emails"]],
    ['emails[type eq "work" and value co ","].value,userName', ["emails.value", "userName"]],
  ])("parseAttributeList(%j) is %j", (input, expected) => {
    expect(parseAttributeList(input), show(input)).toEqual(expected);
  });
});
