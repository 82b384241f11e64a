/**
 * Attribute projection of responses: RFC 7644 §3.4.2.5 (`attributes`, `excludedAttributes`)
 * and the `returned` characteristic of RFC 7643 §7.
 */
import { findAttribute, resolveAttribute } from "./lookup";
import { resourceSchemas, sameUrn } from "./resource-types";
import type { AttributeDefinition, JsonObject, JsonValue, ResourceTypeName, SchemaDefinition } from "./types";

export interface ProjectionOptions {
  /** Names to return (plus `returned: always` ones); comma-separated entries are split too. */
  attributes?: string[];
  /** Names to leave out (never the `returned: always` ones). */
  excludedAttributes?: string[];
}

/**
 * Splits an `attributes` / `excludedAttributes` query parameter: comma-separated, blanks dropped.
 * A value filter is accepted and dropped (`emails[type eq "work"]` is `emails`,
 * `emails[type eq "work"].value` is `emails.value`): Microsoft's reference SCIM client sends
 * one, RFC 7644 §3.4.2.5 names attributes only, and the whole attribute is a superset of what
 * was asked. Commas inside the brackets or a quoted value do not split.
 */
export function parseAttributeList(param: string | undefined): string[] {
  if (param === undefined) return [];
  const names: string[] = [];
  let current = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < param.length; i++) {
    const ch = param.charAt(i);
    if (quoted) {
      if (ch === "\\") i++;
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"' && depth > 0) quoted = true;
    else if (ch === "[") depth++;
    else if (ch === "]" && depth > 0) depth--;
    else if (depth > 0) continue;
    else if (ch === ",") {
      names.push(current);
      current = "";
    } else current += ch;
  }
  names.push(current);
  return names.map((s) => s.trim()).filter((s) => s !== "");
}

/** The names of one parameter, resolved against the schemas; unknown names select nothing. */
interface Selection {
  /** Extension schemas named by their URN alone: all of their attributes. */
  schemas: Set<SchemaDefinition>;
  attributes: Set<AttributeDefinition>;
  subs: Map<AttributeDefinition, Set<AttributeDefinition>>;
}

function select(resourceType: ResourceTypeName, names: string[] | undefined): Selection | undefined {
  const list = (names ?? []).flatMap((n) => parseAttributeList(n));
  if (list.length === 0) return undefined;
  const { extensions } = resourceSchemas(resourceType);
  const selection: Selection = { schemas: new Set(), attributes: new Set(), subs: new Map() };
  for (const name of list) {
    const extension = extensions.find((s) => sameUrn(s.id, name));
    if (extension) {
      selection.schemas.add(extension);
      continue;
    }
    const match = resolveAttribute(resourceType, name);
    if (!match) continue;
    if (!match.sub) {
      selection.attributes.add(match.attribute);
      continue;
    }
    let subs = selection.subs.get(match.attribute);
    if (!subs) selection.subs.set(match.attribute, (subs = new Set()));
    subs.add(match.sub);
  }
  return selection;
}

/**
 * Returns what a response may show of `doc`: `returned: never` (password) never;
 * `always` (id) always; with `attributes`, only those (plus always); otherwise the `default`
 * ones; `request` ones only when named; then `excludedAttributes` removed. `schemas` is
 * always kept. Names match case-insensitively, as `name.givenName`, or URN-qualified.
 */
export function projectResource(
  resourceType: ResourceTypeName,
  doc: JsonObject,
  options: ProjectionOptions = {},
): JsonObject {
  const include = select(resourceType, options.attributes);
  const exclude = select(resourceType, options.excludedAttributes);
  const { core, extensions } = resourceSchemas(resourceType);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key.toLowerCase() === "schemas") {
      out.schemas = value;
      continue;
    }
    const extension = extensions.find((s) => sameUrn(s.id, key));
    if (extension) {
      if (!isJsonObject(value)) continue;
      const projected: JsonObject = {};
      for (const [innerKey, innerValue] of Object.entries(value)) {
        const attribute = findAttribute(resourceType, { urn: extension.id, attr: innerKey })?.attribute;
        const kept = attribute && projectAttribute(extension, attribute, innerValue, include, exclude);
        if (attribute && kept !== undefined) projected[attribute.name] = kept;
      }
      if (Object.keys(projected).length > 0) out[extension.id] = projected;
      continue;
    }
    // Keys that are not attributes of the schema are never served (and can never be `__proto__`).
    const attribute = findAttribute(resourceType, { urn: core.id, attr: key })?.attribute;
    const kept = attribute && projectAttribute(core, attribute, value, include, exclude);
    if (attribute && kept !== undefined) out[attribute.name] = kept;
  }
  return out;
}

function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function projectAttribute(
  schema: SchemaDefinition,
  attribute: AttributeDefinition,
  value: JsonValue,
  include: Selection | undefined,
  exclude: Selection | undefined,
): JsonValue | undefined {
  if (attribute.returned === "never") return undefined;
  const always = attribute.returned === "always";
  const named = include !== undefined && (include.schemas.has(schema) || include.attributes.has(attribute));
  const namedSubs = include?.subs.get(attribute);
  if (!always) {
    if (include ? !named && !namedSubs : attribute.returned === "request") return undefined;
    if (exclude && (exclude.schemas.has(schema) || exclude.attributes.has(attribute))) return undefined;
  }
  if (attribute.type !== "complex") return value;

  // Which sub-attributes survive: all (or only the named ones), minus never and excluded.
  const excludedSubs = exclude?.subs.get(attribute);
  const keepSub = (sub: AttributeDefinition): boolean => {
    if (sub.returned === "never") return false;
    if (sub.returned === "always") return true;
    const wanted = always || named || !include ? sub.returned !== "request" || namedSubs?.has(sub) === true : namedSubs?.has(sub) === true;
    return wanted && !excludedSubs?.has(sub);
  };
  const projectObject = (v: JsonValue): JsonValue | undefined => {
    if (!isJsonObject(v)) return v;
    const o: JsonObject = {};
    for (const [k, subValue] of Object.entries(v)) {
      const sub = attribute.subAttributes?.find((s) => s.name.toLowerCase() === k.toLowerCase());
      if (sub && keepSub(sub)) o[sub.name] = subValue;
    }
    return Object.keys(o).length > 0 ? o : undefined;
  };
  if (!Array.isArray(value)) return projectObject(value);
  const items = value.map(projectObject).filter((v): v is JsonValue => v !== undefined);
  return items.length > 0 ? items : undefined;
}
