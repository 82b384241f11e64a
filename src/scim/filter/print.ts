/**
 * Canonical text for a filter AST: `parseFilter(printFilter(f))` gives `f` back.
 *
 * Strings are JSON-escaped (RFC 7644 §3.4.2.2 compValue), operators lower-case, `not` always
 * written `not (…)` as in the RFC's ABNF, and parentheses only where the parser's
 * precedence (not > and > or, left-associative chains) would otherwise regroup the tree.
 */

import type { AttrPath, Filter, FilterValue } from "./ast";

export function printAttrPath(path: AttrPath): string {
  const base = path.urn !== undefined ? `${path.urn}:${path.attr}` : path.attr;
  return path.sub !== undefined ? `${base}.${path.sub}` : base;
}

export function printValue(value: FilterValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  // String(-0) is "0"; keep the sign so the round trip is exact.
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  return String(value);
}

/** Text of a compare/present node whose path is already printed. */
function printCondition(f: Filter, pathText: string): string {
  if (f.op === "present") return `${pathText} pr`;
  if (f.op === "compare") return `${pathText} ${f.operator} ${printValue(f.value)}`;
  throw new TypeError(`printFilter: expected a comparison or 'pr', got '${f.op}'`);
}

function samePath(a: AttrPath, b: AttrPath): boolean {
  return a.urn === b.urn && a.attr === b.attr;
}

function parenthesise(f: Filter, needed: boolean): string {
  return needed ? `(${printFilter(f)})` : printFilter(f);
}

export function printFilter(f: Filter): string {
  switch (f.op) {
    case "compare":
    case "present":
      return printCondition(f, printAttrPath(f.path));
    case "or":
      // Chains are left-associative, so only a right-hand `or` needs parentheses.
      return `${printFilter(f.left)} or ${parenthesise(f.right, f.right.op === "or")}`;
    case "and":
      return `${parenthesise(f.left, f.left.op === "or")} and ${parenthesise(
        f.right,
        f.right.op === "or" || f.right.op === "and",
      )}`;
    case "not":
      return `not (${printFilter(f.filter)})`;
    case "valuePath": {
      const head = `${printAttrPath(f.path)}[${printFilter(f.filter)}]`;
      if (f.then === undefined) return head;
      // `then` can only be written as `attr[…].sub op value` (see ast.ts).
      const then = f.then;
      if ((then.op !== "compare" && then.op !== "present") || then.path.sub === undefined || !samePath(then.path, f.path)) {
        throw new TypeError("printFilter: a valuePath's `then` must compare a sub-attribute of the same attribute");
      }
      return printCondition(then, `${head}.${then.path.sub}`);
    }
  }
}
