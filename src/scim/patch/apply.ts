/**
 * Applies parsed PATCH operations to a stored document (RFC 7644 §3.5.2.1–3), atomically: the
 * input is never modified, and any failing operation fails the whole request.
 */
import { ScimError, fail, ok, scimErrors, type Result } from "../errors";
import {
  COMMON_ATTRIBUTES,
  isPlainObject,
  requireWithinValueCap,
  resourceSchemas,
  sameUrn,
  type AttributeDefinition,
  type JsonObject,
  type JsonValue,
  type ResourceTypeName,
  type ScimDocument,
} from "../schema";
import { ElementIndex, PartSet } from "./containment";
import { deepEqual, isJsonObject } from "./json";
import { foldMemberOperation, noMemberChanges } from "./members";
import { checkValueFilter, resolveTarget, type Target } from "./target";
import type { MemberChanges, PatchOperation, PatchOutcome } from "./types";
import {
  cleanElement,
  cleanSubValue,
  cleanValue,
  elementFromFilter,
  elementMatches,
  inSchemaOrder,
} from "./values";

interface Context {
  resourceType: ResourceTypeName;
  doc: ScimDocument;
  resourceId: string;
  members: MemberChanges;
}

/**
 * Applies `ops` in order to a copy of `doc`. Group `members` operations are folded into
 * `members` instead of the document. `resourceId` lets a path-less value repeat the
 * resource's own id (Okta's group rename op) without being refused as a change to `id`.
 */
export function applyPatch(
  resourceType: ResourceTypeName,
  doc: ScimDocument,
  ops: readonly PatchOperation[],
  resourceId: string,
): Result<PatchOutcome> {
  const ctx: Context = { resourceType, doc: structuredClone(doc), resourceId, members: noMemberChanges() };
  const failed = applyEach(ops, (op) => applyOperation(ctx, op));
  if (failed) return fail(failed);
  try {
    const result = finish(ctx);
    return ok({ doc: result, changed: !deepEqual(doc, result), members: ctx.members });
  } catch (e) {
    if (e instanceof ScimError) return fail(e);
    throw e;
  }
}

/** Runs `step` for each operation in order; a SCIM error comes back naming its operation. */
function applyEach(ops: readonly PatchOperation[], step: (op: PatchOperation) => void): ScimError | undefined {
  for (const op of ops) {
    try {
      step(op);
    } catch (e) {
      if (!(e instanceof ScimError)) throw e;
      return new ScimError(e.status, `Operation ${op.index + 1} (${op.op} "${op.pathText}"): ${e.message}`, e.scimType);
    }
  }
  return undefined;
}

function isGroupMembers(resourceType: ResourceTypeName, target: Target): boolean {
  return resourceType === "Group" && target.isCore && target.attribute.name === "members";
}

function targetsGroupMembers(op: PatchOperation): boolean {
  try {
    const target = resolveTarget("Group", op);
    return target !== undefined && isGroupMembers("Group", target);
  } catch (e) {
    // A bad path is not a members operation; applyPatch reports it.
    if (e instanceof ScimError) return false;
    throw e;
  }
}

/**
 * The member changes of a Group PATCH whose every operation targets `members` (Entra's
 * membership PATCHes), folded without the stored group, which such a PATCH never needs.
 * Undefined when some operation touches the document: use applyPatch.
 */
export function memberOnlyPatch(ops: readonly PatchOperation[]): Result<MemberChanges> | undefined {
  if (!ops.every(targetsGroupMembers)) return undefined;
  const members = noMemberChanges();
  const failed = applyEach(ops, (op) => foldMemberOperation(members, op));
  return failed ? fail(failed) : ok(members);
}

function applyOperation(ctx: Context, op: PatchOperation): void {
  if (op.wholeExtension !== undefined) {
    removeExtension(ctx, op.wholeExtension);
    return;
  }
  const target = resolveTarget(ctx.resourceType, op);
  if (target === undefined) return;
  const { attribute, sub, label } = target;
  if (isGroupMembers(ctx.resourceType, target)) {
    foldMemberOperation(ctx.members, op);
    return;
  }
  // Okta's rename op `{"op":"replace","value":{"id":"<the group's id>","displayName":"…"}}`.
  if (attribute.name === "id" && target.isCore && op.fromValueKey && op.op !== "remove" && op.value === ctx.resourceId) return;

  // RFC 7644 §3.5.2: a readOnly target, or an immutable one that has a value, is 400 mutability.
  if (attribute.mutability === "readOnly" || sub?.mutability === "readOnly") {
    throw scimErrors.mutability(`"${sub ? `${label}.${sub.name}` : label}" is read-only.`);
  }
  if (attribute.mutability === "immutable" && currentValue(ctx, target) !== undefined) {
    throw scimErrors.mutability(`"${label}" is immutable and already has a value.`);
  }
  if (target.filter !== undefined) checkValueFilter(attribute, target.filter, label);

  // writeOnly, never returned (password): checked like POST, then dropped — nothing stores credentials.
  if (attribute.returned === "never") {
    if (op.op !== "remove") cleanValue(attribute, op.value, label);
    return;
  }
  if (target.filter !== undefined || (sub !== undefined && attribute.multiValued)) applyToElements(ctx, op, target);
  else if (sub !== undefined) applyToSubAttribute(ctx, op, target, sub);
  else applyToAttribute(ctx, op, target);
}

/** Drops a whole extension object; finish() then takes its URN out of `schemas`. */
function removeExtension(ctx: Context, urn: string): void {
  const extension = resourceSchemas(ctx.resourceType).extensions.find((e) => sameUrn(e.id, urn));
  if (!extension) throw scimErrors.invalidPath(`"${urn}" is not an extension of ${ctx.resourceType} resources.`);
  delete ctx.doc[extension.id];
}

/** The object holding the target attribute: the document, or its extension object (RFC 7643 §3.3). */
function holderOf(ctx: Context, target: Target, create: boolean): JsonObject | undefined {
  if (target.isCore) return ctx.doc;
  const existing = ctx.doc[target.schema.id];
  if (isJsonObject(existing)) return existing;
  if (!create) return undefined;
  const fresh: JsonObject = {};
  ctx.doc[target.schema.id] = fresh;
  return fresh;
}

function currentValue(ctx: Context, target: Target): JsonValue | undefined {
  return holderOf(ctx, target, false)?.[target.attribute.name];
}

function elementsOf(holder: JsonObject | undefined, attribute: AttributeDefinition): JsonValue[] {
  const v = holder?.[attribute.name];
  return Array.isArray(v) ? v : [];
}

/** Stores a multi-valued attribute; an empty array is unassigned (RFC 7643 §2.5), so it is deleted. */
function storeElements(holder: JsonObject, attribute: AttributeDefinition, elements: JsonValue[]): void {
  if (elements.length > 0) holder[attribute.name] = elements;
  else delete holder[attribute.name];
}

/** Path names a whole attribute: `active`, `name`, `emails`, `urn:…:employeeNumber`. */
function applyToAttribute(ctx: Context, op: PatchOperation, target: Target): void {
  const { attribute, label } = target;
  if (op.op === "remove") {
    const holder = holderOf(ctx, target, false);
    if (!holder) return;
    // Entra ID: `{"op":"Remove","path":"…","value":[…]}` removes the listed values only.
    if (attribute.multiValued && op.value !== undefined && op.value !== null) {
      const listed = new PartSet(attribute, asElements(cleanValue(attribute, op.value, label)));
      const kept = elementsOf(holder, attribute).filter((el) => !listed.heldBy(el));
      storeElements(holder, attribute, kept);
    } else {
      delete holder[attribute.name];
    }
    return;
  }

  const cleaned = op.value === null ? undefined : cleanValue(attribute, op.value, label);
  if (cleaned === undefined) {
    // null, [] or "" (a bare manager id) unassigns on replace; `{}` on a complex attribute
    // names no sub-attribute to change (RFC 7644 §3.5.2.3: unnamed ones are left unchanged).
    const mergesNothing = attribute.type === "complex" && !attribute.multiValued && isPlainObject(op.value);
    if (op.op === "replace" && !mergesNothing) delete holderOf(ctx, target, false)?.[attribute.name];
    return;
  }
  const holder = holderOf(ctx, target, true) ?? ctx.doc;
  if (attribute.multiValued) {
    const incoming = asElements(cleaned);
    // RFC 7644 §3.5.2.3: replacing a multi-valued attribute without a filter replaces all values.
    if (op.op === "replace") {
      holder[attribute.name] = incoming;
      return;
    }
    // RFC 7644 §3.5.2.1: add appends; a value already present (or added just before) changes nothing.
    const elements = elementsOf(holder, attribute);
    const present = new ElementIndex(attribute, elements);
    const added: JsonValue[] = [];
    for (const el of incoming) {
      if (present.holds(el)) continue;
      present.add(el);
      added.push(el);
    }
    if (added.length === 0) return;
    const all = [...elements, ...added];
    // Checked per operation, so no later operation of the request works on more than the cap.
    requireWithinValueCap(attribute, all.length, label);
    settlePrimary(attribute, all, added);
    holder[attribute.name] = all;
    return;
  }
  const existing = holder[attribute.name];
  // RFC 7644 §3.5.2.1/§3.5.2.3: on a complex attribute both add and replace merge sub-attributes.
  holder[attribute.name] =
    attribute.type === "complex" && isJsonObject(existing) && isJsonObject(cleaned)
      ? inSchemaOrder(attribute, { ...existing, ...cleaned })
      : cleaned;
}

/** Path names a sub-attribute of a single-valued complex attribute: `name.givenName`, `urn:…:manager.value`. */
function applyToSubAttribute(ctx: Context, op: PatchOperation, target: Target, sub: AttributeDefinition): void {
  const { attribute } = target;
  const value = op.op === "remove" ? undefined : cleanSubValue(attribute, sub, op.value, target.label);
  if (value === undefined) {
    if (op.op === "add") return;
    const holder = holderOf(ctx, target, false);
    const obj = holder?.[attribute.name];
    if (!holder || !isJsonObject(obj)) return;
    delete obj[sub.name];
    if (Object.keys(obj).length === 0) delete holder[attribute.name];
    return;
  }
  const holder = holderOf(ctx, target, true) ?? ctx.doc;
  const obj = holder[attribute.name];
  if (sub.mutability === "immutable" && isJsonObject(obj) && obj[sub.name] !== undefined && !deepEqual(obj[sub.name], value)) {
    throw scimErrors.mutability(`"${target.label}.${sub.name}" is immutable and already has a value.`);
  }
  holder[attribute.name] = inSchemaOrder(attribute, { ...(isJsonObject(obj) ? obj : {}), [sub.name]: value });
}

/**
 * Path selects elements of a multi-valued complex attribute: `emails[type eq "work"]`,
 * `emails[type eq "work"].value`, or `emails.value` (every element). When add/replace selects
 * nothing, the element is created from the filter's `eq` conditions (Entra ID sends
 * `emails[type eq "work"].value` for a user without a work email), so later operations on the
 * same filter in the request merge into it.
 */
function applyToElements(ctx: Context, op: PatchOperation, target: Target): void {
  const { attribute, sub, filter, label } = target;
  const holder = holderOf(ctx, target, op.op !== "remove");
  if (!holder) return;
  const elements = elementsOf(holder, attribute);
  const selected = new Set(
    elements.filter((el): el is JsonObject => isJsonObject(el) && (filter === undefined || elementMatches(attribute, el, filter))),
  );

  let value: JsonValue | undefined;
  if (op.op !== "remove" && op.value !== null) {
    value = sub !== undefined ? cleanSubValue(attribute, sub, op.value, label) : cleanElement(attribute, op.value, label);
  }
  if (value === undefined) {
    // remove, or replace with null: drop the sub-attribute or the elements selected.
    if (op.op === "add") return;
    const next =
      sub === undefined
        ? elements.filter((el) => !(isJsonObject(el) && selected.has(el)))
        : elements
            .map((el) => (isJsonObject(el) && selected.has(el) ? withoutKey(el, sub.name) : el))
            .filter((el) => !isJsonObject(el) || Object.keys(el).length > 0);
    storeElements(holder, attribute, next);
    return;
  }

  const template = filter === undefined ? {} : elementFromFilter(attribute, filter);
  const patchOf = (el: JsonObject): JsonObject => {
    if (sub !== undefined) return inSchemaOrder(attribute, { ...el, [sub.name]: value });
    // RFC 7644 §3.5.2.3: replace swaps the selected elements (keeping what the filter pins down);
    // add merges into them.
    const base = op.op === "add" ? el : cleanElement(attribute, template ?? {}, label) ?? {};
    return inSchemaOrder(attribute, { ...base, ...(isJsonObject(value) ? value : {}) });
  };

  const touched: JsonValue[] = [];
  let next: JsonValue[];
  if (selected.size > 0) {
    next = elements.map((el) => {
      if (!isJsonObject(el) || !selected.has(el)) return el;
      const patched = patchOf(el);
      touched.push(patched);
      return patched;
    });
  } else {
    if (template === undefined) {
      throw scimErrors.noTarget(`No element of "${label}" matches the filter, and the filter does not describe one to create (only "eq" conditions joined by "and" do).`);
    }
    const raw = sub !== undefined ? { ...template, [sub.name]: value } : { ...template, ...(isJsonObject(value) ? value : {}) };
    const created = cleanElement(attribute, raw, label);
    if (created === undefined) return;
    touched.push(created);
    next = [...elements, created];
    requireWithinValueCap(attribute, next.length, label);
  }
  settlePrimary(attribute, next, touched);
  storeElements(holder, attribute, next);
}

function withoutKey(obj: JsonObject, key: string): JsonObject {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

function asElements(cleaned: JsonValue | undefined): JsonValue[] {
  if (cleaned === undefined) return [];
  return Array.isArray(cleaned) ? cleaned : [cleaned];
}

/**
 * RFC 7644 §3.5.2: setting `primary` true on a value sets it false on the others (RFC 7643 §2.4:
 * at most one primary). Two touched values both claiming primary is the client's error.
 */
function settlePrimary(attribute: AttributeDefinition, elements: JsonValue[], touched: readonly JsonValue[]): void {
  if (!attribute.subAttributes?.some((s) => s.name === "primary")) return;
  const claims = touched.filter((el) => isJsonObject(el) && el.primary === true);
  if (claims.length > 1) throw scimErrors.invalidValue(`At most one value of "${attribute.name}" may be primary.`);
  if (claims.length === 0) return;
  elements.forEach((el, i) => {
    if (isJsonObject(el) && el.primary === true && !claims.includes(el)) elements[i] = { ...el, primary: false };
  });
}

/**
 * After all operations: extension objects that became empty go (with their `schemas` entry),
 * new ones are listed; required attributes must still be there; keys in schema order.
 */
function finish(ctx: Context): ScimDocument {
  const { core, extensions } = resourceSchemas(ctx.resourceType);
  const doc = ctx.doc;
  let schemas = doc.schemas;
  for (const ext of extensions) {
    const obj = doc[ext.id];
    if (isJsonObject(obj) && Object.keys(obj).length > 0) {
      if (!schemas.some((s) => sameUrn(s, ext.id))) schemas = [...schemas, ext.id];
    } else if (obj !== undefined || schemas.some((s) => sameUrn(s, ext.id))) {
      delete doc[ext.id];
      schemas = schemas.filter((s) => !sameUrn(s, ext.id));
    }
  }
  for (const attribute of core.attributes) {
    if (attribute.required && doc[attribute.name] === undefined) {
      throw scimErrors.invalidValue(`Attribute "${attribute.name}" is required and cannot be removed.`);
    }
  }
  // Same key order as parseResource: schemas, common and core attributes, extensions, then
  // anything else the stored document had.
  const out: ScimDocument = { schemas };
  const known = [...COMMON_ATTRIBUTES, ...core.attributes].map((a) => a.name).concat(extensions.map((e) => e.id));
  for (const key of [...known, ...Object.keys(doc)]) {
    const v = doc[key];
    if (v !== undefined && !Object.hasOwn(out, key) && key !== "__proto__") out[key] = v;
  }
  return out;
}
