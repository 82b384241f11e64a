/** Schema model types: RFC 7643 §7 (attribute characteristics), §6 (resource types). */

export type AttributeType =
  | "string"
  | "boolean"
  | "decimal"
  | "integer"
  | "dateTime"
  | "reference"
  | "complex"
  | "binary";

export type Mutability = "readOnly" | "readWrite" | "immutable" | "writeOnly";
export type Returned = "always" | "never" | "default" | "request";
export type Uniqueness = "none" | "server" | "global";

/** One attribute as RFC 7643 §7 describes it; complex attributes carry `subAttributes` (one level only, §2.3.8). */
export interface AttributeDefinition {
  readonly name: string;
  readonly type: AttributeType;
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: Mutability;
  readonly returned: Returned;
  readonly uniqueness: Uniqueness;
  readonly canonicalValues?: readonly string[];
  /** For `reference` attributes: "User", "Group", "external", "uri" (§7). */
  readonly referenceTypes?: readonly string[];
  readonly subAttributes?: readonly AttributeDefinition[];
}

export interface SchemaDefinition {
  /** The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`. */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDefinition[];
}

export type ResourceTypeName = "User" | "Group";

export interface ResourceTypeDefinition {
  readonly id: ResourceTypeName;
  readonly name: ResourceTypeName;
  readonly endpoint: string;
  readonly description: string;
  /** The core schema URN. */
  readonly schema: string;
  readonly schemaExtensions: readonly { readonly schema: string; readonly required: boolean }[];
}

/** Plain JSON, as stored and returned. */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * A validated resource body: canonical attribute names, `schemas` = the core URN plus the
 * extension URNs present. The storage layer adds `id` and `meta`.
 */
export interface ScimDocument extends JsonObject {
  schemas: string[];
}
