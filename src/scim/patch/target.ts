/** Where a PATCH operation points (RFC 7644 §3.5.2): the attribute, sub-attribute and value filter. */
import { scimErrors } from "../errors";
import { printAttrPath, type Filter } from "../filter";
import {
  findAttribute,
  resourceSchemas,
  subAttributeOf,
  type AttributeDefinition,
  type ResourceTypeName,
  type SchemaDefinition,
} from "../schema";
import type { PatchOperation } from "./types";

export interface Target {
  schema: SchemaDefinition;
  isCore: boolean;
  attribute: AttributeDefinition;
  /** From `name.givenName` or `emails[type eq "work"].value`. */
  sub?: AttributeDefinition;
  /** From `emails[type eq "work"]`; only on multi-valued complex attributes. */
  filter?: Filter;
  /** The attribute's canonical name, URN-qualified for extension attributes. */
  label: string;
}

/**
 * Resolves an operation's path against the schema, names in any case (RFC 7643 §2.1).
 * `undefined` = an unknown attribute among the keys of a path-less value, which is ignored as
 * unknown attributes in POST/PUT bodies are; an unknown explicit path is 400 invalidPath.
 */
export function resolveTarget(resourceType: ResourceTypeName, op: PatchOperation): Target | undefined {
  const { path, valueFilter, subAttr } = op.path;
  if (path.urn === undefined && path.attr.toLowerCase() === "schemas") {
    throw scimErrors.mutability('"schemas" is maintained by the server from the attributes present.');
  }
  const match = findAttribute(resourceType, { ...(path.urn !== undefined ? { urn: path.urn } : {}), attr: path.attr });
  if (!match) {
    if (op.fromValueKey) return undefined;
    throw scimErrors.invalidPath(`"${printAttrPath(path)}" is not an attribute of ${resourceType} resources.`);
  }
  const { schema, attribute } = match;
  const isCore = schema === resourceSchemas(resourceType).core;
  const label = isCore ? attribute.name : `${schema.id}:${attribute.name}`;
  const target: Target = { schema, isCore, attribute, label };

  const subName = path.sub ?? subAttr;
  if (subName !== undefined) {
    const sub = subAttributeOf(attribute, subName);
    if (!sub) {
      if (op.fromValueKey) return undefined;
      throw scimErrors.invalidPath(`"${subName}" is not a sub-attribute of "${label}".`);
    }
    target.sub = sub;
  }
  if (valueFilter !== undefined) {
    if (!attribute.multiValued || attribute.type !== "complex") {
      throw scimErrors.invalidPath(`"${label}" is not a multi-valued complex attribute, so it takes no value filter.`);
    }
    target.filter = valueFilter;
  }
  return target;
}

/** A value filter may only name sub-attributes of the filtered attribute (RFC 7644 §3.5.2 valuePath). */
export function checkValueFilter(attribute: AttributeDefinition, filter: Filter, label: string): void {
  switch (filter.op) {
    case "and":
    case "or":
      checkValueFilter(attribute, filter.left, label);
      checkValueFilter(attribute, filter.right, label);
      return;
    case "not":
      checkValueFilter(attribute, filter.filter, label);
      return;
    case "valuePath":
      throw scimErrors.invalidPath(`Value filters cannot be nested inside "${label}[…]".`);
    case "compare":
    case "present":
      if (filter.path.sub !== undefined || !subAttributeOf(attribute, filter.path.attr)) {
        throw scimErrors.invalidPath(`"${printAttrPath(filter.path)}" in the filter is not a sub-attribute of "${label}".`);
      }
  }
}
