/**
 * Validation of POST/PUT resource bodies against the schema definitions (RFC 7643 §2, §7;
 * RFC 7644 §3.3, §3.5.1), liberal where real IdPs need it (see /work/shared/IDP-BEHAVIOUR.md).
 */
import { ScimError, fail, ok, scimErrors, type Result } from "../errors";
import { checkIdentifier, refuseDefaultIgnorable, refuseLoneSurrogates } from "../identifiers";
import { COMMON_ATTRIBUTES } from "./common";
import { GROUP_SCHEMA } from "./group";
import { findAttribute, splitUrnPath, subAttributeOf } from "./lookup";
import { resourceSchemas, sameUrn } from "./resource-types";
import type {
  AttributeDefinition,
  JsonObject,
  JsonValue,
  ResourceTypeName,
  SchemaDefinition,
  ScimDocument,
} from "./types";

/** Keys that could reach `Object.prototype` if copied naively; never read, never written. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Complex attributes that Entra ID sends as bare strings: `manager: "<id>"` and
 * `roles: ["Admin"]` / `roles: ["{\"value\":\"Admin\"}"]`. A bare string becomes `{value}`.
 */
const BARE_STRING_AS_VALUE = new Set(["roles", "manager"]);

/** The client's identifier (RFC 7643 §3.1): no invisible characters, like the names. */
const EXTERNAL_ID = COMMON_ATTRIBUTES.find((a) => a.name === "externalId");
/**
 * externalId has its own indexed column, and a user's displayName is every group's member
 * `display`: both stay short so a row stays far under D1's 2 MB row limit and a page of
 * 5,000 members far under its 50 MB result limit (storage/group-members.ts).
 */
const MAX_NAME_LENGTH = 1024;
const CAPPED_NAMES = new Set(["externalId", "displayName"]);

/**
 * Most values one multi-valued attribute of a resource may hold (emails, phoneNumbers, roles,
 * …), on POST, PUT and as the result of a PATCH. IdPs send a handful; the cap keeps every walk
 * of the document (PATCH, validation, rendering) small. Group `members` are not in the
 * document and have their own cap per request (413, storage/groups.ts).
 */
export const MAX_VALUES_PER_ATTRIBUTE = 1000;
const GROUP_MEMBERS = GROUP_SCHEMA.attributes.find((a) => a.name === "members");

/** 400 invalidValue when `count` values would pass MAX_VALUES_PER_ATTRIBUTE for `attribute`. */
export function requireWithinValueCap(attribute: AttributeDefinition, count: number, label: string): void {
  if (count > MAX_VALUES_PER_ATTRIBUTE && attribute !== GROUP_MEMBERS) {
    throw scimErrors.invalidValue(`Attribute "${label}" may have at most ${MAX_VALUES_PER_ATTRIBUTE} values.`);
  }
}

/** xsd:dateTime (RFC 7643 §2.3.5), e.g. `2011-05-13T04:42:34Z`; `Date.parse` alone accepts "1". */
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Booleans, plus the strings Entra ID sends for them (`"True"`, `"False"`, in any case).
 * Anything else is `undefined`, which callers answer with invalidValue.
 */
export function coerceBoolean(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (typeof v !== "string") return undefined;
  const lower = v.toLowerCase();
  return lower === "true" ? true : lower === "false" ? false : undefined;
}

/**
 * The key of case-insensitive unique indexes (userName, group displayName): NFC first so a
 * precomposed and a decomposed `é` collide, then lower case so `Alice` and `alice` do.
 */
export function uniquenessKey(value: string): string {
  return value.normalize("NFC").toLowerCase();
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Own keys worth reading: forbidden keys and `null` values (= absent, RFC 7643 §2.5) skipped. */
function entries(obj: Record<string, unknown>): [string, unknown][] {
  return Object.keys(obj)
    .filter((k) => !FORBIDDEN_KEYS.has(k) && obj[k] !== null && obj[k] !== undefined)
    .map((k) => [k, obj[k]]);
}

function describe(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}

/**
 * Parses a POST or PUT body into a clean document: canonical attribute names, unknown and
 * readOnly attributes dropped, `password` dropped (nothing stores credentials), values checked
 * against their definitions. No `id` or `meta`: the storage layer adds them.
 */
export function parseResource(resourceType: ResourceTypeName, body: unknown): Result<ScimDocument> {
  try {
    return ok(parseOrThrow(resourceType, body));
  } catch (e) {
    if (e instanceof ScimError) return fail(e);
    throw e;
  }
}

/**
 * Checks and cleans one value against its definition, with the same rules as `parseResource`
 * (for PATCH values). `undefined` = nothing to store (null, [], {}). `label` names the attribute
 * in error details. Identifier rules (userName, displayName) apply too; mutability is the
 * caller's check (PATCH answers readOnly targets with 400 mutability).
 */
export function parseAttributeValue(
  attribute: AttributeDefinition,
  value: unknown,
  label: string = attribute.name,
): Result<JsonValue | undefined> {
  try {
    if (value === null || value === undefined) return ok(undefined);
    return ok(cleanTopLevel(attribute, value, label));
  } catch (e) {
    if (e instanceof ScimError) return fail(e);
    throw e;
  }
}

function parseOrThrow(resourceType: ResourceTypeName, body: unknown): ScimDocument {
  if (!isPlainObject(body)) throw scimErrors.invalidSyntax("The request body must be a JSON object.");
  refuseLoneSurrogates(body);
  const { core, extensions } = resourceSchemas(resourceType);
  checkSchemas(resourceType, body);

  // Stage raw values per schema and attribute, matching keys case-insensitively (RFC 7643 §2.1).
  const staged = new Map<SchemaDefinition, Map<AttributeDefinition, unknown>>();
  const stage = (schema: SchemaDefinition, attribute: AttributeDefinition, value: unknown, key: string): void => {
    let forSchema = staged.get(schema);
    if (!forSchema) staged.set(schema, (forSchema = new Map<AttributeDefinition, unknown>()));
    if (forSchema.has(attribute)) {
      throw scimErrors.invalidSyntax(`Attribute "${key}" is given more than once (names are case-insensitive).`);
    }
    forSchema.set(attribute, value);
  };

  for (const [key, value] of entries(body)) {
    if (key.toLowerCase() === "schemas") continue;
    const extension = extensions.find((s) => sameUrn(s.id, key));
    if (extension) {
      // RFC 7643 §3.3: extension attributes live in an object keyed by the extension URN.
      if (!isPlainObject(value)) {
        throw scimErrors.invalidValue(`"${extension.id}" must be an object, got ${describe(value)}.`);
      }
      for (const [innerKey, innerValue] of entries(value)) {
        const match = findAttribute(resourceType, { ...splitUrnPath(innerKey), urn: extension.id });
        if (match && !match.sub) stage(match.schema, match.attribute, innerValue, innerKey);
      }
      continue;
    }
    // Plain or URN-qualified names (RFC 7644 §3.10). Unknown names and dotted sub-attribute
    // keys (a PATCH notation) are ignored: IdPs send extras we do not model.
    const match = findAttribute(resourceType, splitUrnPath(key));
    if (match && !match.sub) stage(match.schema, match.attribute, value, key);
  }

  const doc: ScimDocument = { schemas: [core.id] };
  for (const schema of [core, ...extensions]) {
    const target: JsonObject = schema === core ? doc : {};
    const raw = staged.get(schema) ?? new Map<AttributeDefinition, unknown>();
    // The common attributes (§3.1: externalId; id and meta are readOnly) count as core ones.
    for (const attribute of schema === core ? [...COMMON_ATTRIBUTES, ...schema.attributes] : schema.attributes) {
      const label = schema === core ? attribute.name : `${schema.id}:${attribute.name}`;
      const value = raw.get(attribute);
      // readOnly (id, meta, groups) is ignored on input (RFC 7643 §7); returned:never (password)
      // is accepted but not kept: this service has no credential store.
      if (attribute.mutability === "readOnly" || attribute.returned === "never") continue;
      const cleaned = value === undefined ? undefined : cleanTopLevel(attribute, value, label);
      if (cleaned !== undefined) target[attribute.name] = cleaned;
      else if (attribute.required) throw scimErrors.invalidValue(`Attribute "${label}" is required.`);
    }
    if (schema !== core && Object.keys(target).length > 0) {
      doc.schemas.push(schema.id);
      doc[schema.id] = target;
    }
  }
  return doc;
}

/**
 * RFC 7643 §3: `schemas` is required and names the core schema; other URNs must be this
 * resource's extensions or a known IdP extra. Missing or malformed → invalidSyntax.
 */
function checkSchemas(resourceType: ResourceTypeName, body: Record<string, unknown>): void {
  const { core, extensions, tolerated } = resourceSchemas(resourceType);
  const keys = Object.keys(body).filter((k) => k.toLowerCase() === "schemas");
  const schemas = keys.length === 1 && keys[0] !== undefined ? body[keys[0]] : undefined;
  if (!Array.isArray(schemas) || !schemas.every((s): s is string => typeof s === "string")) {
    throw scimErrors.invalidSyntax('The body must have a "schemas" array of URN strings.');
  }
  if (!schemas.some((s) => sameUrn(s, core.id))) {
    throw scimErrors.invalidSyntax(`"schemas" must include "${core.id}".`);
  }
  const known = [core.id, ...extensions.map((e) => e.id), ...tolerated];
  const unknown = schemas.find((s) => !known.some((k) => sameUrn(k, s)));
  if (unknown !== undefined) {
    throw scimErrors.invalidValue(`Schema "${unknown}" is not supported for ${resourceType} resources.`);
  }
}

function cleanTopLevel(attribute: AttributeDefinition, value: unknown, label: string): JsonValue | undefined {
  const cleaned = cleanAttribute(attribute, value, label);
  if (typeof cleaned !== "string") return cleaned;
  // Writable unique strings are the names IdPs match on (userName, group displayName).
  if (attribute.uniqueness !== "none") return checkIdentifier(cleaned, label);
  if (attribute === EXTERNAL_ID) refuseDefaultIgnorable(cleaned, label);
  if (CAPPED_NAMES.has(attribute.name)) checkLength(cleaned, label, MAX_NAME_LENGTH);
  return cleaned;
}

/** At most `max` characters (code points), counted only when the UTF-16 length could pass it. */
function checkLength(value: string, label: string, max: number): void {
  if (value.length > max && [...value].length > max) {
    throw scimErrors.invalidValue(`Attribute "${label}" must be at most ${max} characters.`);
  }
}

/** One attribute's value, checked and cleaned; `undefined` when it amounts to nothing. */
function cleanAttribute(attribute: AttributeDefinition, value: unknown, label: string): JsonValue | undefined {
  if (!attribute.multiValued) return cleanSingle(attribute, value, label);
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  // A lone value where an array is expected: wrapped (IdPs do send single objects).
  else if (isPlainObject(value) || (typeof value === "string" && BARE_STRING_AS_VALUE.has(attribute.name))) items = [value];
  else throw scimErrors.invalidValue(`Attribute "${label}" must be an array (multi-valued), got ${describe(value)}.`);

  const out: JsonValue[] = [];
  items.forEach((item, i) => {
    if (item === null) return;
    const cleaned = cleanSingle(attribute, item, `${label}[${i}]`);
    if (cleaned === undefined) return;
    out.push(cleaned);
    requireWithinValueCap(attribute, out.length, label);
  });
  // RFC 7643 §2.4: the primary attribute "SHALL be true for only one" value.
  const primaries = out.filter((v) => isPlainObject(v) && v.primary === true).length;
  if (primaries > 1) throw scimErrors.invalidValue(`Attribute "${label}" has ${primaries} values with "primary": true; at most one is allowed.`);
  // RFC 7643 §2.5: an empty array is the same state as unassigned, so it is not stored.
  return out.length > 0 ? out : undefined;
}

function cleanSingle(attribute: AttributeDefinition, value: unknown, label: string): JsonValue | undefined {
  if (attribute.type !== "complex") return cleanScalar(attribute, value, label);
  let obj = value;
  if (typeof value === "string" && BARE_STRING_AS_VALUE.has(attribute.name)) obj = bareStringToComplex(value);
  if (obj === undefined) return undefined;
  if (!isPlainObject(obj)) throw scimErrors.invalidValue(`Attribute "${label}" must be an object, got ${describe(obj)}.`);

  const raw = new Map<AttributeDefinition, unknown>();
  for (const [key, subValue] of entries(obj)) {
    const sub = subAttributeOf(attribute, key);
    if (!sub) continue; // unknown sub-attribute: ignored like unknown attributes
    if (raw.has(sub)) throw scimErrors.invalidSyntax(`Attribute "${label}.${key}" is given more than once.`);
    raw.set(sub, subValue);
  }
  const out: JsonObject = {};
  for (const sub of attribute.subAttributes ?? []) {
    const subValue = raw.get(sub);
    // Sub-attributes the server computes (manager.displayName) are ignored on input.
    const cleaned = subValue === undefined || sub.mutability === "readOnly" ? undefined : cleanScalar(sub, subValue, `${label}.${sub.name}`);
    if (cleaned !== undefined) out[sub.name] = cleaned;
    else if (sub.required) throw scimErrors.invalidValue(`Attribute "${label}.${sub.name}" is required.`);
  }
  if (attribute.name === "roles") unwrapJsonRoleValue(out);
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Entra's `AppRoleAssignmentsComplex([appRoleAssignments])` mapping can send a role's `value`
 * as the app role serialised to JSON (`"{\"id\":\"…\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"`):
 * the role's value is the app role's `value`, its display the app role's `displayName`.
 */
function unwrapJsonRoleValue(role: JsonObject): void {
  const raw = role.value;
  if (typeof raw !== "string" || !raw.trimStart().startsWith("{")) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return; // not JSON after all: the string is the value
  }
  if (!isPlainObject(parsed) || typeof parsed.value !== "string" || parsed.value === "") return;
  role.value = parsed.value;
  if (role.display === undefined && typeof parsed.displayName === "string") role.display = parsed.displayName;
}

/**
 * Entra ID: `manager: "<id>"`, `roles: ["Admin"]`, `roles: ["{\"value\":\"Admin\"}"]`.
 * A JSON-object string is parsed; any other string is the `value`; "" clears (absent).
 */
function bareStringToComplex(s: string): unknown {
  if (s === "") return undefined;
  if (s.trimStart().startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(s);
      if (isPlainObject(parsed)) return parsed;
    } catch {
      // not JSON after all: fall through and keep it as a plain value
    }
  }
  return { value: s };
}

function cleanScalar(attribute: AttributeDefinition, value: unknown, label: string): JsonValue | undefined {
  switch (attribute.type) {
    case "string":
    case "reference":
    case "binary":
      if (typeof value === "string") return value;
      throw scimErrors.invalidValue(`Attribute "${label}" must be a string, got ${describe(value)}.`);
    case "boolean": {
      const b = coerceBoolean(value);
      if (b !== undefined) return b;
      throw scimErrors.invalidValue(`Attribute "${label}" must be a boolean, got ${describe(value)}.`);
    }
    case "integer":
      if (typeof value === "number" && Number.isSafeInteger(value)) return value;
      throw scimErrors.invalidValue(`Attribute "${label}" must be an integer, got ${describe(value)}.`);
    case "decimal":
      if (typeof value === "number" && Number.isFinite(value)) return value;
      throw scimErrors.invalidValue(`Attribute "${label}" must be a number, got ${describe(value)}.`);
    case "dateTime":
      if (typeof value === "string" && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) return value;
      throw scimErrors.invalidValue(`Attribute "${label}" must be an xsd:dateTime such as 2024-01-31T12:00:00Z.`);
    case "complex":
      // RFC 7643 §2.3.8: a complex attribute has no complex sub-attributes.
      throw scimErrors.invalidValue(`Attribute "${label}" cannot be nested.`);
  }
}
