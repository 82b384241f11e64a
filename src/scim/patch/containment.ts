/**
 * "Does some element already hold this value?" (`containsValue`) asked of a whole multi-valued
 * attribute in O(1), so a PATCH that adds or removes k values of an attribute with n values is
 * O(n + k), not O(n·k): 4,000 emails added one by one used to take half a second of CPU, and
 * a 1 MB body would have passed the Workers CPU limit.
 *
 * An element holds a part when it has every key of the part with an equal value (strings
 * case-insensitively unless the sub-attribute is caseExact, anything else structurally). So
 * both are reduced to a key: the element's values at the part's keys, each normalised the way
 * containsValue compares it. Elements are projected once per distinct key set that is asked
 * about (a request names a handful: `{value, type}`, `{value}`), never once per question.
 */
import { subAttributeOf, type AttributeDefinition, type JsonValue } from "../schema";
import { isJsonObject } from "./json";

/** JSON with object keys sorted: equal exactly when deepEqual says so (key order is ignored). */
function canonical(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] as JsonValue)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A part's key set, in a fixed order. */
function keySetOf(part: Record<string, JsonValue>): string[] {
  return Object.keys(part).sort();
}

class Projector {
  /** Projections computed so far: the whole cost of the index (tests pin it linear). */
  projections = 0;
  private readonly caseless = new Map<string, boolean>();

  constructor(private readonly attribute: AttributeDefinition) {}

  /** One value as containsValue compares it at `key`. */
  private token(key: string, value: JsonValue): string {
    if (typeof value !== "string") return `j${canonical(value)}`;
    let caseless = this.caseless.get(key);
    if (caseless === undefined) {
      caseless = !(subAttributeOf(this.attribute, key)?.caseExact ?? false);
      this.caseless.set(key, caseless);
    }
    return `s${JSON.stringify(caseless ? value.toLowerCase() : value)}`;
  }

  /** `element` at `keys`, or undefined when it lacks one of them (then it holds no such part). */
  project(element: JsonValue, keys: readonly string[]): string | undefined {
    if (!isJsonObject(element)) return undefined;
    this.projections += 1;
    const tokens: string[] = [];
    for (const key of keys) {
      const value = element[key];
      if (value === undefined) return undefined;
      tokens.push(this.token(key, value));
    }
    return JSON.stringify(tokens);
  }
}

/** The elements of one attribute, asked whether some element holds a part; grows as values are added. */
export class ElementIndex {
  private readonly projector: Projector;
  private readonly elements: JsonValue[] = [];
  /** Non-object elements (deepEqual), by canonical JSON. */
  private readonly plain = new Set<string>();
  /** Per key set asked about (joined keys): the projections of every element. */
  private readonly byKeySet = new Map<string, { keys: string[]; present: Set<string> }>();

  constructor(attribute: AttributeDefinition, elements: readonly JsonValue[]) {
    this.projector = new Projector(attribute);
    for (const element of elements) this.add(element);
  }

  get projections(): number {
    return this.projector.projections;
  }

  add(element: JsonValue): void {
    this.elements.push(element);
    if (!isJsonObject(element)) {
      this.plain.add(canonical(element));
      return;
    }
    for (const { keys, present } of this.byKeySet.values()) {
      const projected = this.projector.project(element, keys);
      if (projected !== undefined) present.add(projected);
    }
  }

  /** Whether some element holds `part` (containsValue(attribute, element, part) for some element). */
  holds(part: JsonValue): boolean {
    if (!isJsonObject(part)) return this.plain.has(canonical(part));
    const keys = keySetOf(part);
    const projected = this.projector.project(part, keys);
    return projected !== undefined && this.projectionsAt(keys).has(projected);
  }

  private projectionsAt(keys: string[]): Set<string> {
    const id = JSON.stringify(keys);
    let entry = this.byKeySet.get(id);
    if (!entry) {
      entry = { keys, present: new Set<string>() };
      for (const element of this.elements) {
        const projected = this.projector.project(element, keys);
        if (projected !== undefined) entry.present.add(projected);
      }
      this.byKeySet.set(id, entry);
    }
    return entry.present;
  }
}

/** Listed parts, asked whether an element holds one of them (Entra's remove-by-value). */
export class PartSet {
  private readonly projector: Projector;
  private readonly plain = new Set<string>();
  private readonly byKeySet = new Map<string, { keys: string[]; parts: Set<string> }>();

  constructor(attribute: AttributeDefinition, parts: readonly JsonValue[]) {
    this.projector = new Projector(attribute);
    for (const part of parts) {
      if (!isJsonObject(part)) {
        this.plain.add(canonical(part));
        continue;
      }
      const keys = keySetOf(part);
      const id = JSON.stringify(keys);
      let entry = this.byKeySet.get(id);
      if (!entry) this.byKeySet.set(id, (entry = { keys, parts: new Set<string>() }));
      const projected = this.projector.project(part, keys);
      if (projected !== undefined) entry.parts.add(projected);
    }
  }

  get projections(): number {
    return this.projector.projections;
  }

  /** Whether `element` holds some listed part. */
  heldBy(element: JsonValue): boolean {
    if (!isJsonObject(element)) return this.plain.has(canonical(element));
    for (const { keys, parts } of this.byKeySet.values()) {
      const projected = this.projector.project(element, keys);
      if (projected !== undefined && parts.has(projected)) return true;
    }
    return false;
  }
}
