/**
 * Case-insensitive attribute lookup (RFC 7643 §2.1: attribute names are case-insensitive) and
 * URN-qualified names (RFC 7644 §3.10: `urn:…:User:name.givenName`).
 */
import { COMMON_ATTRIBUTES } from "./common";
import { resourceSchemas, sameUrn, schemaForUrn } from "./resource-types";
import type { AttributeDefinition, ResourceTypeName, SchemaDefinition } from "./types";

/** An attribute reference: optional schema URN, attribute, optional sub-attribute. */
export interface AttributePath {
  urn?: string;
  attr: string;
  sub?: string;
}

export interface AttributeMatch {
  schema: SchemaDefinition;
  attribute: AttributeDefinition;
  sub?: AttributeDefinition;
}

/**
 * Splits `urn:…:User:name.givenName` / `name.givenName` / `userName` into its parts. The URN is
 * everything before the last colon (attribute names contain no colon, RFC 7644 §3.10 ABNF; URNs
 * contain dots, so the colon must be found first). A key that is itself a schema URN (an
 * extension object in a body) is not a path: check with `schemaForUrn` first. Value filters
 * (`emails[type eq "work"]`) are the PATCH/filter parsers' business, not this function's.
 */
export function splitUrnPath(key: string): AttributePath {
  let rest = key;
  let urn: string | undefined;
  if (key.slice(0, 4).toLowerCase() === "urn:") {
    const colon = key.lastIndexOf(":");
    urn = key.slice(0, colon);
    rest = key.slice(colon + 1);
  }
  const dot = rest.indexOf(".");
  const path: AttributePath = dot < 0 ? { attr: rest } : { attr: rest.slice(0, dot), sub: rest.slice(dot + 1) };
  if (urn !== undefined) path.urn = urn;
  return path;
}

/** Attributes of a schema keyed by lower-cased name, built once per schema. */
const indexes = new WeakMap<object, Map<string, AttributeDefinition>>();

function indexOf(owner: object, attributes: readonly AttributeDefinition[]): Map<string, AttributeDefinition> {
  let index = indexes.get(owner);
  if (!index) {
    index = new Map(attributes.map((a) => [a.name.toLowerCase(), a]));
    indexes.set(owner, index);
  }
  return index;
}

/** Looks `name` up among a schema's attributes; the core schema also has the common ones (§3.1). */
function attributeOf(schema: SchemaDefinition, isCore: boolean, name: string): AttributeDefinition | undefined {
  const key = name.toLowerCase();
  const own = indexOf(schema, schema.attributes).get(key);
  if (own || !isCore) return own;
  return indexOf(COMMON_ATTRIBUTES, COMMON_ATTRIBUTES).get(key);
}

/** A sub-attribute of a complex attribute, by name in any case. */
export function subAttributeOf(attribute: AttributeDefinition, name: string): AttributeDefinition | undefined {
  if (!attribute.subAttributes) return undefined;
  return indexOf(attribute, attribute.subAttributes).get(name.toLowerCase());
}

/**
 * Finds an attribute of a resource type. Without a URN the core schema (and common attributes)
 * is searched first, then the extensions: IdPs qualify extension attributes, but an
 * unqualified `employeeNumber` is unambiguous, so it is accepted.
 */
export function findAttribute(resourceType: ResourceTypeName, path: AttributePath): AttributeMatch | undefined {
  const { core, extensions } = resourceSchemas(resourceType);
  let schema: SchemaDefinition | undefined;
  let attribute: AttributeDefinition | undefined;
  if (path.urn !== undefined) {
    schema = schemaForUrn(resourceType, path.urn);
    attribute = schema && attributeOf(schema, schema === core, path.attr);
  } else {
    for (const candidate of [core, ...extensions]) {
      attribute = attributeOf(candidate, candidate === core, path.attr);
      if (attribute) {
        schema = candidate;
        break;
      }
    }
  }
  if (!schema || !attribute) return undefined;
  if (path.sub === undefined) return { schema, attribute };
  const sub = subAttributeOf(attribute, path.sub);
  return sub ? { schema, attribute, sub } : undefined;
}

/** `findAttribute(resourceType, splitUrnPath(key))`. */
export function resolveAttribute(resourceType: ResourceTypeName, key: string): AttributeMatch | undefined {
  return findAttribute(resourceType, splitUrnPath(key));
}

/**
 * The schema's spelling of an attribute path, as stored documents use it: core attributes
 * unqualified (`UserName` → `userName`, `urn:…:core:2.0:User:NAME.givenname` → `name.givenName`),
 * extension attributes qualified with the extension URN. `undefined` when unknown.
 */
export function canonicalName(resourceType: ResourceTypeName, key: string): string | undefined {
  const match = resolveAttribute(resourceType, key);
  if (!match) return undefined;
  const local = match.sub ? `${match.attribute.name}.${match.sub.name}` : match.attribute.name;
  const isCore = sameUrn(match.schema.id, resourceSchemas(resourceType).core.id);
  return isCore ? local : `${match.schema.id}:${local}`;
}
