/**
 * Common attributes shared by every resource (RFC 7643 §3.1). They belong to no schema
 * (§8.7.1 does not list them), so lookup adds them to the core schema of each resource type.
 */
import type { AttributeDefinition } from "./types";

type Overrides = Partial<Omit<AttributeDefinition, "name" | "type">>;

/** Builds an attribute with RFC 7643 §2.2 defaults, so definitions list only what differs. */
export function attr(name: string, type: AttributeDefinition["type"], description: string, o: Overrides = {}): AttributeDefinition {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: "readWrite",
    returned: "default",
    uniqueness: "none",
    ...o,
  };
}

/** A complex attribute; each sub-attribute states its own characteristics (RFC 7643 §7). */
export function complex(
  name: string,
  description: string,
  subAttributes: readonly AttributeDefinition[],
  o: Overrides = {},
): AttributeDefinition {
  return attr(name, "complex", description, { ...o, subAttributes });
}

/**
 * The shape RFC 7643 §4.1.2 gives every multi-valued "value" attribute (emails, phoneNumbers,
 * ims, photos, entitlements, roles, x509Certificates): value, display, type, primary.
 */
export function multiValued(
  name: string,
  description: string,
  value: { type: AttributeDefinition["type"]; referenceTypes?: readonly string[]; caseExact?: boolean },
  canonicalTypes: readonly string[],
): AttributeDefinition {
  return complex(
    name,
    description,
    [
      attr("value", value.type, `The value of the ${name} entry.`, {
        ...(value.referenceTypes ? { referenceTypes: value.referenceTypes } : {}),
        ...(value.caseExact !== undefined ? { caseExact: value.caseExact } : {}),
      }),
      attr("display", "string", "A human-readable name, primarily used for display purposes. READ-ONLY."),
      attr("type", "string", `A label indicating the ${name} entry's function.`, { canonicalValues: canonicalTypes }),
      attr("primary", "boolean", `A Boolean value indicating the 'primary' or preferred ${name} entry.`),
    ],
    { multiValued: true },
  );
}

export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  // §3.1: id is assigned by the service provider, compared exactly, always returned.
  attr("id", "string", "Unique identifier for the SCIM resource as defined by the service provider.", {
    caseExact: true,
    mutability: "readOnly",
    returned: "always",
    uniqueness: "server",
  }),
  // §3.1: externalId is the client's identifier; caseExact so `ABC` and `abc` are distinct.
  attr("externalId", "string", "A String that is an identifier for the resource as defined by the provisioning client.", {
    caseExact: true,
  }),
  complex(
    "meta",
    "A complex attribute containing resource metadata.",
    [
      attr("resourceType", "string", "The name of the resource type of the resource.", {
        caseExact: true,
        mutability: "readOnly",
      }),
      attr("created", "dateTime", "The DateTime that the resource was added to the service provider.", {
        mutability: "readOnly",
      }),
      attr("lastModified", "dateTime", "The most recent DateTime that the details of this resource were updated.", {
        mutability: "readOnly",
      }),
      attr("location", "reference", "The URI of the resource being returned.", {
        caseExact: true,
        mutability: "readOnly",
        referenceTypes: ["uri"],
      }),
      attr("version", "string", "The version of the resource being returned (the ETag).", {
        caseExact: true,
        mutability: "readOnly",
      }),
    ],
    { mutability: "readOnly" },
  ),
];
