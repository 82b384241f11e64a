/** The core Group schema, RFC 7643 §4.2 (representation in §8.7.1). */
import { attr, complex } from "./common";
import type { SchemaDefinition } from "./types";

export const GROUP_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Group";

export const GROUP_SCHEMA: SchemaDefinition = {
  id: GROUP_SCHEMA_URN,
  name: "Group",
  description: "Group",
  attributes: [
    // §8.7.1 marks displayName optional and not unique; this service requires it and keeps it
    // unique per tenant (IdPs match groups by displayName, and roles are assigned by group).
    attr("displayName", "string", "A human-readable name for the Group.", {
      required: true,
      uniqueness: "server",
    }),
    complex(
      "members",
      "A list of members of the Group.",
      [
        // Required here (not in §8.7.1): a member without an id cannot be stored.
        attr("value", "string", "Identifier of the member of this Group.", {
          required: true,
          caseExact: true,
          mutability: "immutable",
        }),
        attr("$ref", "reference", "The URI corresponding to a SCIM resource that is a member of this Group.", {
          mutability: "immutable",
          referenceTypes: ["User", "Group"],
        }),
        // §4.2 mentions display; Okta sends it on group push.
        attr("display", "string", "A human-readable name for the member.", { mutability: "immutable" }),
        attr("type", "string", "A label indicating the type of resource, e.g., 'User' or 'Group'.", {
          mutability: "immutable",
          canonicalValues: ["User", "Group"],
        }),
      ],
      { multiValued: true },
    ),
  ],
};
