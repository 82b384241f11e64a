/**
 * Group `members` operations (RFC 7644 §3.5.2, RFC 7643 §4.2). They never touch the stored
 * document: they fold, in request order, into a `MemberChanges` that storage applies without
 * loading the whole group (a 1,300-member group must not be rewritten to add one member).
 */
import { scimErrors } from "../errors";
import { printFilter, type Filter } from "../filter";
import { isPlainObject } from "../schema";
import type { MemberChanges, PatchOperation } from "./types";

export function noMemberChanges(): MemberChanges {
  return { clear: false, add: [], remove: [] };
}

/** Folds one operation whose target is `members` into `changes`; throws ScimError on bad input. */
export function foldMemberOperation(changes: MemberChanges, op: PatchOperation): void {
  const { path, valueFilter, subAttr } = op.path;
  if (path.sub !== undefined || subAttr !== undefined) {
    throw scimErrors.invalidPath(`"${op.pathText}": members are added or removed whole; their sub-attributes cannot be patched.`);
  }
  if (valueFilter !== undefined) {
    // Okta and Entra (aadOptscim062020): remove members[value eq "…"].
    if (op.op !== "remove") {
      throw scimErrors.invalidPath(`"${op.pathText}": a filter on members can only be used with "remove".`);
    }
    removeMembers(changes, filterIds(valueFilter));
    return;
  }
  switch (op.op) {
    case "add":
      addMembers(changes, memberIds(op.value, changes));
      return;
    case "remove":
      // RFC 7644 §3.5.2.2: no value removes every member. Entra ID's value array removes only
      // the members listed, never all of them (a trap other servers fell into).
      if (op.value === undefined || op.value === null) clearMembers(changes);
      else removeMembers(changes, memberIds(op.value));
      return;
    case "replace":
      // RFC 7644 §3.5.2.3: a multi-valued attribute without a filter is replaced whole.
      clearMembers(changes);
      addMembers(changes, memberIds(op.value, changes));
      return;
  }
}

function clearMembers(changes: MemberChanges): void {
  changes.clear = true;
  changes.add = [];
  changes.remove = [];
}

// Set-based, O(ids) per operation: one request may name 10,000 members, and an array scan per
// id (includes/filter) cost 1.5 s of CPU at that size.

/** Appends the ids not yet in `list`, in order, once each. */
function appendNew(list: string[], ids: string[]): void {
  const seen = new Set(list);
  for (const id of ids) {
    if (!seen.has(id)) {
      seen.add(id);
      list.push(id);
    }
  }
}

function without(list: string[], ids: string[]): string[] {
  const dropped = new Set(ids);
  return list.filter((id) => !dropped.has(id));
}

function addMembers(changes: MemberChanges, ids: string[]): void {
  changes.remove = without(changes.remove, ids);
  appendNew(changes.add, ids);
}

function removeMembers(changes: MemberChanges, ids: string[]): void {
  changes.add = without(changes.add, ids);
  // After a clear the members are gone anyway.
  if (!changes.clear) appendNew(changes.remove, ids);
}

/** Sub-attributes a member object may carry besides `value` (RFC 7643 §4.2; Entra sends `"$ref": null`). */
const OPTIONAL_STRINGS = ["$ref", "display", "type"];

/**
 * Member ids of a value: an array of `{value}` objects (a lone object is accepted too). With
 * `sent`, each member's `display` is kept there (Okta sends it on group push).
 */
export function memberIds(value: unknown, sent?: { displays?: Map<string, string> }): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  const ids: string[] = [];
  items.forEach((item, i) => {
    if (item === null) return;
    const label = `members[${i}]`;
    if (!isPlainObject(item)) {
      throw scimErrors.invalidValue(`"${label}" must be an object such as {"value": "<id>"}, got ${Array.isArray(item) ? "an array" : typeof item}.`);
    }
    const keys = Object.keys(item);
    const read = (name: string): unknown => {
      const key = keys.find((k) => k.toLowerCase() === name.toLowerCase());
      return key === undefined ? undefined : item[key];
    };
    const id = read("value");
    if (typeof id !== "string" || id === "") throw scimErrors.invalidValue(`"${label}.value" must be a non-empty string (the member's id).`);
    for (const name of OPTIONAL_STRINGS) {
      const v = read(name);
      if (v !== undefined && v !== null && typeof v !== "string") {
        throw scimErrors.invalidValue(`"${label}.${name}" must be a string.`);
      }
    }
    const display = read("display");
    if (sent && typeof display === "string" && display !== "") (sent.displays ??= new Map()).set(id, display);
    ids.push(id);
  });
  return ids;
}

/** Ids named by `value eq "x"` or a chain of them joined with `or`; any other filter is refused. */
function filterIds(filter: Filter): string[] {
  const ids: string[] = [];
  const pending: Filter[] = [filter];
  for (let f = pending.pop(); f !== undefined; f = pending.pop()) {
    if (f.op === "or") {
      pending.push(f.right, f.left);
    } else if (
      f.op === "compare" &&
      f.operator === "eq" &&
      typeof f.value === "string" &&
      f.path.attr.toLowerCase() === "value" &&
      f.path.sub === undefined
    ) {
      ids.push(f.value);
    } else {
      throw scimErrors.invalidPath(
        `Unsupported members filter "members[${printFilter(filter)}]": use members[value eq "<id>"], optionally joined with "or".`,
      );
    }
  }
  return ids;
}
