/**
 * Value checks for PATCH, delegated to the schema module's `parseAttributeValue` so a PATCH
 * value is accepted or refused exactly as the same value in a POST/PUT body.
 */
import { unwrap } from "../errors";
import { matchesFilter, type Filter } from "../filter";
import { parseAttributeValue, subAttributeOf, type AttributeDefinition, type JsonObject, type JsonValue } from "../schema";
import { deepEqual, isJsonObject } from "./json";

/** A whole attribute's value; `undefined` = nothing (null, [], {}). */
export function cleanValue(attribute: AttributeDefinition, value: unknown, label: string): JsonValue | undefined {
  return unwrap(parseAttributeValue(attribute, value, label));
}

/** The same attribute seen as one element (a multi-valued attribute's element rules). */
const elementDefinitions = new WeakMap<AttributeDefinition, AttributeDefinition>();
function elementDefinition(attribute: AttributeDefinition): AttributeDefinition {
  let def = elementDefinitions.get(attribute);
  if (!def) {
    def = { ...attribute, multiValued: false };
    elementDefinitions.set(attribute, def);
  }
  return def;
}

/** One complex value (an element of `emails`, or `name`); `undefined` = nothing. */
export function cleanElement(attribute: AttributeDefinition, value: unknown, label: string): JsonObject | undefined {
  const cleaned = unwrap(parseAttributeValue(elementDefinition(attribute), value, label));
  if (cleaned === undefined || isJsonObject(cleaned)) return cleaned;
  throw new TypeError(`complex attribute ${attribute.name} cleaned to a non-object`); // unreachable
}

/** One sub-attribute's value, checked by cleaning `{sub: value}` as an element of its attribute. */
export function cleanSubValue(
  attribute: AttributeDefinition,
  sub: AttributeDefinition,
  value: unknown,
  label: string,
): JsonValue | undefined {
  return cleanElement(attribute, { [sub.name]: value }, label)?.[sub.name];
}

/** `obj` with its keys in schema order (as `parseResource` writes them). */
export function inSchemaOrder(attribute: AttributeDefinition, obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const sub of attribute.subAttributes ?? []) {
    const v = obj[sub.name];
    if (v !== undefined) out[sub.name] = v;
  }
  return out;
}

/** Whether `element` matches a value filter, string comparisons following each sub-attribute's caseExact. */
export function elementMatches(attribute: AttributeDefinition, element: JsonObject, filter: Filter): boolean {
  return matchesFilter(element, filter, {
    caseExact: (p) => (p.sub !== undefined ? subAttributeOf(attribute, p.sub)?.caseExact : attribute.caseExact) ?? false,
    within: { attr: attribute.name },
  });
}

/**
 * Whether `element` already holds everything in `part` (RFC 7644 §3.5.2.1: adding a value that
 * is already there changes nothing; Entra's remove-by-value names elements by some of their
 * sub-attributes). Strings compare case-insensitively unless the sub-attribute is caseExact.
 */
export function containsValue(attribute: AttributeDefinition, element: JsonValue, part: JsonValue): boolean {
  if (!isJsonObject(element) || !isJsonObject(part)) return deepEqual(element, part);
  return Object.keys(part).every((key) => {
    const a = element[key];
    const b = part[key];
    if (typeof a === "string" && typeof b === "string" && !(subAttributeOf(attribute, key)?.caseExact ?? false)) {
      return a.toLowerCase() === b.toLowerCase();
    }
    return deepEqual(a, b);
  });
}

/**
 * The element a value filter describes, from its `eq` conditions joined by `and`
 * (`type eq "work"` → `{type: "work"}`), so that a filter matching nothing can create its
 * element (Entra ID). `undefined` when the filter says more than that.
 */
export function elementFromFilter(attribute: AttributeDefinition, filter: Filter): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const pending: Filter[] = [filter];
  for (let f = pending.pop(); f !== undefined; f = pending.pop()) {
    if (f.op === "and") {
      pending.push(f.right, f.left);
      continue;
    }
    if (f.op !== "compare" || f.operator !== "eq" || f.value === null) return undefined;
    const sub = subAttributeOf(attribute, f.path.attr);
    if (!sub) return undefined;
    out[sub.name] = f.value;
  }
  return out;
}
