import { describe, expect, it } from "vitest";
import {
  ENTERPRISE_USER_SCHEMA_URN,
  GROUP_SCHEMA_URN,
  USER_SCHEMA_URN,
  findResourceTypeDocument,
  findSchemaDocument,
  resourceTypeDocuments,
  schemaDocuments,
  serviceProviderConfig,
  type JsonObject,
  type JsonValue,
  type ServiceProviderFeatures,
} from "../../src/scim/schema";

const BASE = "https://scim.example.com/scim/v2/acme";
const show = (v: unknown): string => JSON.stringify(v);

const features: ServiceProviderFeatures = {
  patch: true,
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: 1000 },
  changePassword: false,
  sort: true,
  etag: true,
};

function attributesOf(schemaId: string): JsonObject[] {
  const doc = schemaDocuments(BASE).find((d) => d.id === schemaId);
  if (!doc) throw new Error(`no schema ${schemaId}`);
  return doc.attributes;
}

function attributeOf(schemaId: string, name: string): JsonObject {
  const a = attributesOf(schemaId).find((x) => x.name === name);
  if (!a) throw new Error(`no attribute ${name} in ${schemaId}`);
  return a;
}

function subOf(attribute: JsonObject, name: string): JsonObject | undefined {
  const subs = attribute.subAttributes as JsonValue[] | undefined;
  return subs?.find((s): s is JsonObject => typeof s === "object" && s !== null && !Array.isArray(s) && s.name === name);
}

describe("/Schemas (RFC 7643 §7, §8.7.1)", () => {
  it("lists User, EnterpriseUser, Group and Okta's Role and Entitlement with Schema meta and locations", () => {
    const docs = schemaDocuments(`${BASE}/`);
    expect(docs.map((d) => d.id), show(docs.map((d) => d.id))).toEqual([
      USER_SCHEMA_URN,
      ENTERPRISE_USER_SCHEMA_URN,
      GROUP_SCHEMA_URN,
      // Issue 12: the role catalog's schemas (src/scim/catalog-resources.ts).
      "urn:okta:scim:schemas:core:1.0:Role",
      "urn:okta:scim:schemas:core:1.0:Entitlement",
    ]);
    for (const d of docs) {
      expect(d.schemas, d.id).toEqual(["urn:ietf:params:scim:schemas:core:2.0:Schema"]);
      expect(d.meta, d.id).toEqual({ resourceType: "Schema", location: `${BASE}/Schemas/${d.id}` });
    }
  });

  it("lists every RFC 7643 §4.1 User attribute", () => {
    const names = attributesOf(USER_SCHEMA_URN).map((a) => a.name);
    expect(names, show(names)).toEqual([
      "userName", "name", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage", "locale",
      "timezone", "active", "password", "emails", "phoneNumbers", "ims", "photos", "addresses", "groups",
      "entitlements", "roles", "x509Certificates",
    ]);
  });

  it("spells out every characteristic of every attribute and sub-attribute", () => {
    const keys = ["name", "type", "multiValued", "description", "required", "caseExact", "mutability", "returned", "uniqueness"];
    for (const schema of schemaDocuments(BASE)) {
      for (const a of schema.attributes) {
        const subs = (a.subAttributes as JsonObject[] | undefined) ?? [];
        for (const x of [a, ...subs]) {
          for (const k of keys) expect(x[k], `${schema.id} ${show(x.name)} has ${k}`).toBeDefined();
        }
        expect(a.type === "complex", `${show(a.name)} has subAttributes iff complex`).toBe(subs.length > 0);
      }
    }
  });

  it("describes userName as required, server-unique and case-insensitive", () => {
    expect(attributeOf(USER_SCHEMA_URN, "userName"), "userName").toMatchObject({
      type: "string", required: true, caseExact: false, mutability: "readWrite", returned: "default", uniqueness: "server",
    });
  });

  it("describes password as writeOnly and never returned", () => {
    expect(attributeOf(USER_SCHEMA_URN, "password"), "password").toMatchObject({ mutability: "writeOnly", returned: "never" });
  });

  it("describes groups as readOnly with value, $ref, display and type", () => {
    const groups = attributeOf(USER_SCHEMA_URN, "groups");
    expect(groups, "groups").toMatchObject({ type: "complex", multiValued: true, mutability: "readOnly" });
    expect((groups.subAttributes as JsonObject[]).map((s) => s.name), "groups sub-attributes").toEqual(["value", "$ref", "display", "type"]);
    expect(subOf(groups, "$ref"), "groups.$ref").toMatchObject({ type: "reference", referenceTypes: ["User", "Group"] });
  });

  it("describes emails with canonical types and addresses with their components", () => {
    expect(subOf(attributeOf(USER_SCHEMA_URN, "emails"), "type"), "emails.type").toMatchObject({ canonicalValues: ["work", "home", "other"] });
    const addresses = attributeOf(USER_SCHEMA_URN, "addresses");
    expect((addresses.subAttributes as JsonObject[]).map((s) => s.name), "addresses sub-attributes").toEqual([
      "formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary",
    ]);
    expect(subOf(attributeOf(USER_SCHEMA_URN, "x509Certificates"), "value"), "x509Certificates.value").toMatchObject({ type: "binary" });
  });

  it("leaves the common attributes (id, externalId, meta) out of the schemas (RFC 7643 §3.1)", () => {
    for (const schema of schemaDocuments(BASE)) {
      const names = schema.attributes.map((a) => a.name);
      expect(names, schema.id).not.toContain("id");
      expect(names, schema.id).not.toContain("meta");
    }
  });

  it("describes the enterprise manager with a readOnly displayName", () => {
    const names = attributesOf(ENTERPRISE_USER_SCHEMA_URN).map((a) => a.name);
    expect(names, show(names)).toEqual(["employeeNumber", "costCenter", "organization", "division", "department", "manager"]);
    const manager = attributeOf(ENTERPRISE_USER_SCHEMA_URN, "manager");
    expect(subOf(manager, "displayName"), "manager.displayName").toMatchObject({ mutability: "readOnly" });
    expect(subOf(manager, "$ref"), "manager.$ref").toMatchObject({ referenceTypes: ["User"] });
  });

  it("describes the group's displayName as required and unique, members.value as immutable", () => {
    expect(attributeOf(GROUP_SCHEMA_URN, "displayName"), "displayName").toMatchObject({ required: true, uniqueness: "server" });
    const members = attributeOf(GROUP_SCHEMA_URN, "members");
    expect(subOf(members, "value"), "members.value").toMatchObject({ mutability: "immutable" });
    expect(subOf(members, "type"), "members.type").toMatchObject({ canonicalValues: ["User", "Group"] });
  });

  it("finds one schema by URN in any case", () => {
    expect(findSchemaDocument(BASE, ENTERPRISE_USER_SCHEMA_URN.toUpperCase())?.id, "enterprise").toBe(ENTERPRISE_USER_SCHEMA_URN);
    expect(findSchemaDocument(BASE, "urn:nope"), "unknown").toBeUndefined();
  });

  it("serialises to JSON and back unchanged", () => {
    const docs = schemaDocuments(BASE);
    expect(JSON.parse(JSON.stringify(docs)), "round trip").toEqual(docs);
  });
});

describe("/ResourceTypes (RFC 7643 §6)", () => {
  it("describes User with the optional enterprise extension and Group without extensions", () => {
    expect(resourceTypeDocuments(BASE), "resource types").toEqual([
      {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        id: "User",
        name: "User",
        endpoint: "/Users",
        description: "User Account",
        schema: USER_SCHEMA_URN,
        schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA_URN, required: false }],
        meta: { resourceType: "ResourceType", location: `${BASE}/ResourceTypes/User` },
      },
      {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        id: "Group",
        name: "Group",
        endpoint: "/Groups",
        description: "Group",
        schema: GROUP_SCHEMA_URN,
        schemaExtensions: [],
        meta: { resourceType: "ResourceType", location: `${BASE}/ResourceTypes/Group` },
      },
    ]);
  });

  it("finds one resource type by id in any case", () => {
    expect(findResourceTypeDocument(BASE, "group")?.id, "group").toBe("Group");
    expect(findResourceTypeDocument(BASE, "Device"), "Device").toBeUndefined();
  });
});

describe("/ServiceProviderConfig (RFC 7643 §5)", () => {
  it("advertises the given features, bearer tokens and its location", () => {
    const doc = serviceProviderConfig(`${BASE}/`, features);
    expect(doc, show(doc)).toEqual({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [
        {
          type: "oauthbearertoken",
          name: "OAuth Bearer Token",
          description: "Authentication using a bearer token issued for the tenant (RFC 6750).",
          specUri: "https://www.rfc-editor.org/info/rfc6750",
          primary: true,
        },
      ],
      meta: { resourceType: "ServiceProviderConfig", location: `${BASE}/ServiceProviderConfig` },
    });
  });

  it("reports unsupported features as unsupported", () => {
    const doc = serviceProviderConfig(BASE, { ...features, patch: false, sort: false, etag: false, filter: { supported: false, maxResults: 0 } });
    expect([doc.patch, doc.sort, doc.etag, doc.filter], show(doc)).toEqual([
      { supported: false },
      { supported: false },
      { supported: false },
      { supported: false, maxResults: 0 },
    ]);
  });

  it("adds documentationUri and RFC 9865 pagination when given", () => {
    const doc = serviceProviderConfig(BASE, { ...features, cursorPagination: true, documentationUri: "https://docs.example.com/scim" });
    expect(doc.documentationUri, show(doc)).toBe("https://docs.example.com/scim");
    expect(doc.pagination, show(doc)).toEqual({ cursor: true, index: true, defaultPaginationMethod: "index" });
  });
});
