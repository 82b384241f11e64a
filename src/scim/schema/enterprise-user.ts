/** The Enterprise User extension, RFC 7643 §4.3 (representation in §8.7.1). */
import { attr, complex } from "./common";
import type { SchemaDefinition } from "./types";

export const ENTERPRISE_USER_SCHEMA_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

export const ENTERPRISE_USER_SCHEMA: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA_URN,
  name: "EnterpriseUser",
  description: "Enterprise User",
  attributes: [
    attr("employeeNumber", "string", "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
    attr("costCenter", "string", "Identifies the name of a cost center."),
    attr("organization", "string", "Identifies the name of an organization."),
    attr("division", "string", "Identifies the name of a division."),
    attr("department", "string", "Identifies the name of a department."),
    complex("manager", "The User's manager.", [
      attr("value", "string", "The id of the SCIM resource representing the User's manager."),
      attr("$ref", "reference", "The URI of the SCIM resource representing the User's manager.", {
        referenceTypes: ["User"],
      }),
      // §4.3: the service provider fills it from the manager's resource.
      attr("displayName", "string", "The displayName of the User's manager.", { mutability: "readOnly" }),
    ]),
  ],
};
