/**
 * In-memory filter evaluation against a SCIM JSON resource (RFC 7644 §3.4.2.2).
 * Used where there is no SQL to compile to, e.g. PATCH value-filter paths
 * (`emails[type eq "work"]`, `members[value eq "…"]`, RFC 7644 §3.5.2).
 */

import type { AttrPath, CompareOp, Filter, FilterValue } from "./ast";

export interface EvaluateOptions {
  /** Whether string comparisons on this attribute are case-sensitive (RFC 7643 §2.2 caseExact). */
  caseExact(path: AttrPath): boolean;
  /**
   * Set when `resource` is one element of a multi-valued attribute (PATCH: testing each
   * `emails` element against `type eq "work"`). Paths in the filter are then relative to the
   * element, and `caseExact` is asked about `{ urn, attr: within.attr, sub: <relative attr> }`.
   */
  within?: AttrPath;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Own-key lookup, case-insensitive: attribute names are case-insensitive (RFC 7643 §2.1). */
function getCI(obj: unknown, key: string): unknown {
  if (!isObject(obj)) return undefined;
  if (Object.hasOwn(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) {
    if (k.toLowerCase() === lower) return obj[k];
  }
  return undefined;
}

/** RFC 7643 §2.5: null, an empty string, an empty array and an empty object all mean "unassigned". */
function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === "") return false;
  if (Array.isArray(v)) return v.some(isPresent);
  if (isObject(v)) return Object.values(v).some(isPresent);
  return true;
}

const CORE_SCHEMA_PREFIX = "urn:ietf:params:scim:schemas:core:";

/**
 * Where a path's attribute lives: extension attributes sit in an object keyed by the schema
 * URN (RFC 7643 §3.3); core attributes may be written fully qualified
 * (`urn:ietf:params:scim:schemas:core:2.0:User:userName`) but sit at the top level.
 */
function container(resource: Json, path: AttrPath): unknown {
  if (path.urn === undefined) return resource;
  const ext = getCI(resource, path.urn);
  if (isObject(ext)) return ext;
  return path.urn.toLowerCase().startsWith(CORE_SCHEMA_PREFIX) ? resource : undefined;
}

/**
 * The values a path denotes, multi-valued attributes flattened. A complex value compared
 * without a sub-attribute stands for its `value` sub-attribute (`emails co "example.com"` in
 * RFC 7644 §3.4.2.2's examples means the addresses).
 */
function valuesAt(resource: Json, path: AttrPath, forComparison: boolean): unknown[] {
  const top = asList(getCI(container(resource, path), path.attr));
  const { sub } = path;
  const picked = sub === undefined ? top : top.flatMap((el) => asList(getCI(el, sub)));
  return forComparison ? picked.map((v) => (isObject(v) ? getCI(v, "value") : v)) : picked;
}

/** A multi-valued attribute's elements, or a single value as a one-element list. */
function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? (v as unknown[]) : [v];
}

function compareOne(actual: unknown, operator: CompareOp, expected: FilterValue, exact: boolean): boolean {
  if (typeof actual === "string" && typeof expected === "string") {
    const a = exact ? actual : actual.toLowerCase();
    const e = exact ? expected : expected.toLowerCase();
    switch (operator) {
      case "eq": return a === e;
      case "ne": return a !== e;
      case "co": return a.includes(e);
      case "sw": return a.startsWith(e);
      case "ew": return a.endsWith(e);
      // Lexicographic: dateTimes are ISO 8601 strings, which order correctly as text.
      case "gt": return a > e;
      case "ge": return a >= e;
      case "lt": return a < e;
      case "le": return a <= e;
    }
  }
  if (typeof actual === "number" && typeof expected === "number") {
    switch (operator) {
      case "eq": return actual === expected;
      case "ne": return actual !== expected;
      case "gt": return actual > expected;
      case "ge": return actual >= expected;
      case "lt": return actual < expected;
      case "le": return actual <= expected;
      default: return false;
    }
  }
  if (typeof actual === "boolean" && typeof expected === "boolean") {
    if (operator === "eq") return actual === expected;
    if (operator === "ne") return actual !== expected;
    return false;
  }
  // Different types: never equal, so "not equal" holds for any present value.
  return operator === "ne" && actual !== undefined && actual !== null;
}

interface Context {
  opts: EvaluateOptions;
  within: AttrPath | undefined;
}

function absolute(path: AttrPath, within: AttrPath | undefined): AttrPath {
  if (within === undefined) return path;
  return { ...(within.urn !== undefined ? { urn: within.urn } : {}), attr: within.attr, sub: path.attr };
}

function compare(resource: Json, f: Filter & { op: "compare" }, ctx: Context): boolean {
  const values = valuesAt(resource, f.path, true);
  // RFC 7643 §2.5: `eq null` asks "unassigned?", `ne null` asks "assigned?".
  if (f.value === null) {
    const assigned = values.some(isPresent);
    if (f.operator === "eq") return !assigned;
    if (f.operator === "ne") return assigned;
    return false;
  }
  const exact = ctx.opts.caseExact(absolute(f.path, ctx.within));
  // RFC 7644 §3.4.2.2: a multi-valued attribute matches if any of its values does — `ne`
  // included, so an absent attribute matches no comparison (as SQL's NULL <> 'x' does not).
  return values.some((v) => compareOne(v, f.operator, f.value, exact));
}

/** A valuePath's `then` is written with the absolute `attr.sub` path; inside the element it is `sub`. */
function relativeToElement(f: Filter): Filter {
  switch (f.op) {
    case "compare":
    case "present":
      return f.path.sub !== undefined ? { ...f, path: { attr: f.path.sub } } : f;
    case "and":
    case "or":
      return { op: f.op, left: relativeToElement(f.left), right: relativeToElement(f.right) };
    case "not":
      return { op: "not", filter: relativeToElement(f.filter) };
    case "valuePath":
      return f;
  }
}

function evaluate(resource: Json, f: Filter, ctx: Context): boolean {
  switch (f.op) {
    case "and":
      return evaluate(resource, f.left, ctx) && evaluate(resource, f.right, ctx);
    case "or":
      return evaluate(resource, f.left, ctx) || evaluate(resource, f.right, ctx);
    case "not":
      return !evaluate(resource, f.filter, ctx);
    case "present":
      return valuesAt(resource, f.path, false).some(isPresent);
    case "compare":
      return compare(resource, f, ctx);
    case "valuePath": {
      const elementCtx: Context = { opts: ctx.opts, within: f.path };
      const then = f.then === undefined ? undefined : relativeToElement(f.then);
      // Both the bracket filter and `then` must hold for the same element.
      return valuesAt(resource, { ...f.path, sub: undefined }, false).some(
        (el) => isObject(el) && evaluate(el, f.filter, elementCtx) && (then === undefined || evaluate(el, then, elementCtx)),
      );
    }
  }
}

/** Whether `resource` (a SCIM resource, or one element of a multi-valued attribute when `opts.within` is set) matches `f`. */
export function matchesFilter(resource: Record<string, unknown>, f: Filter, opts: EvaluateOptions): boolean {
  return evaluate(resource, f, { opts, within: opts.within });
}
