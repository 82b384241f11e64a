/**
 * PATCH request parsing (RFC 7644 §3.5.2): checks the PatchOp envelope and normalises the
 * dialects real IdPs send (see /work/shared/IDP-BEHAVIOUR.md) into one operation per target.
 */
import { ScimError, fail, ok, scimErrors, type Result } from "../errors";
import { parsePatchPath, type PatchPath } from "../filter";
import { refuseLoneSurrogates } from "../identifiers";
import { SCHEMAS, isPlainObject, sameUrn } from "../schema";
import type { PatchOpName, PatchOperation } from "./types";

export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/** Most operations accepted in one request, counted after path-less values are expanded. */
export const MAX_OPERATIONS = 1000;

const OP_NAMES: ReadonlySet<string> = new Set<PatchOpName>(["add", "remove", "replace"]);

/** Keys that could reach `Object.prototype`; skipped wherever a client's keys are read. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Short printable form of client input for error details. */
function show(v: unknown): string {
  const text = v === undefined ? "nothing" : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * Parses a PATCH body into operations, or the RFC 7644 §3.12 error it deserves. Ops are
 * accepted in any case (Entra ID sends `Replace`), and a path-less add/replace becomes one
 * operation per key of its value, keys being paths (`name.givenName`, `urn:…:employeeNumber`,
 * `emails[type eq "work"].value`) or extension objects keyed by their schema URN.
 */
export function parsePatchRequest(body: unknown): Result<PatchOperation[]> {
  try {
    return ok(parseOrThrow(body));
  } catch (e) {
    if (e instanceof ScimError) return fail(e);
    throw e;
  }
}

/** The own key of `obj` named `name` in any case; two spellings of it are ambiguous. */
function member(obj: Record<string, unknown>, name: string, where: string): unknown {
  const keys = Object.keys(obj).filter((k) => k.toLowerCase() === name);
  if (keys.length > 1) throw scimErrors.invalidSyntax(`${where} has "${name}" more than once (${keys.join(", ")}).`);
  const key = keys[0];
  return key === undefined ? undefined : obj[key];
}

function parseOrThrow(body: unknown): PatchOperation[] {
  if (!isPlainObject(body)) throw scimErrors.invalidSyntax("The PATCH body must be a JSON object.");
  refuseLoneSurrogates(body);
  const schemas = member(body, "schemas", "The body");
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === "string" && sameUrn(s, PATCH_OP_SCHEMA))) {
    throw scimErrors.invalidSyntax(`"schemas" must include "${PATCH_OP_SCHEMA}".`);
  }
  const operations = member(body, "operations", "The body");
  if (!Array.isArray(operations) || operations.length === 0) {
    throw scimErrors.invalidSyntax('The body must have a non-empty "Operations" array (RFC 7644 §3.5.2).');
  }
  const tooMany = (): ScimError => scimErrors.tooMany(`At most ${MAX_OPERATIONS} operations are accepted per request.`);
  if (operations.length > MAX_OPERATIONS) throw tooMany();

  const out: PatchOperation[] = [];
  operations.forEach((raw, index) => {
    out.push(...parseOperation(raw, index));
    if (out.length > MAX_OPERATIONS) throw tooMany();
  });
  return out;
}

function parseOperation(raw: unknown, index: number): PatchOperation[] {
  const where = `Operation ${index + 1}`;
  if (!isPlainObject(raw)) throw scimErrors.invalidSyntax(`${where} must be an object, got ${show(raw)}.`);

  const opRaw = member(raw, "op", where);
  const op = typeof opRaw === "string" ? opRaw.toLowerCase() : undefined;
  if (op === undefined || !OP_NAMES.has(op)) {
    throw scimErrors.invalidSyntax(`${where}: "op" must be add, remove or replace, got ${show(opRaw)}.`);
  }
  const name = op as PatchOpName;
  const value = member(raw, "value", where);
  const pathRaw = member(raw, "path", where);
  if (pathRaw !== undefined && pathRaw !== null && typeof pathRaw !== "string") {
    throw scimErrors.invalidPath(`${where}: "path" must be a string, got ${show(pathRaw)}.`);
  }
  // An empty path is read as no path at all.
  const pathText = typeof pathRaw === "string" && pathRaw.trim() !== "" ? pathRaw : undefined;

  if (pathText === undefined) {
    // RFC 7644 §3.5.2.2: remove needs a target.
    if (name === "remove") throw scimErrors.noTarget(`${where}: "remove" needs a "path" (RFC 7644 §3.5.2.2).`);
    if (!isPlainObject(value)) {
      throw scimErrors.invalidValue(`${where}: "${name}" without a "path" needs an object "value" of attributes, got ${show(value)}.`);
    }
    return expandValue(name, value, index, undefined);
  }

  // RFC 7644 §3.5.2.1/§3.5.2.3: add and replace carry a value; null on replace = unassign.
  if (name !== "remove" && (value === undefined || (name === "add" && value === null))) {
    throw scimErrors.invalidValue(`${where}: "${name}" needs a "value".`);
  }
  // A whole extension as the target (`path: "urn:…:enterprise:2.0:User"`): its value is the
  // extension object, handled like a path-less value.
  const schemaUrn = schemaUrnOf(pathText);
  if (schemaUrn !== undefined && name !== "remove" && isPlainObject(value)) return expandValue(name, value, index, schemaUrn);

  if (schemaUrn !== undefined && name === "remove") {
    return [{ op: name, path: { path: { attr: schemaUrn } }, pathText, index, wholeExtension: schemaUrn }];
  }
  const operation: PatchOperation = { op: name, path: parsePath(pathText, where), pathText, index };
  if (value !== undefined) operation.value = value;
  return [operation];
}

/**
 * One operation per key of a path-less value. Keys are paths relative to `urn` when the value
 * is an extension object. `schemas` is the envelope, not an attribute, so it is skipped; so is
 * a null under add (RFC 7643 §2.5: null = unassigned, nothing to add).
 */
function expandValue(op: PatchOpName, obj: Record<string, unknown>, index: number, urn: string | undefined): PatchOperation[] {
  const where = `Operation ${index + 1}`;
  const out: PatchOperation[] = [];
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (FORBIDDEN_KEYS.has(key) || value === undefined) continue;
    if (urn === undefined && key.toLowerCase() === "schemas") continue;
    const schema = urn === undefined ? schemaUrnOf(key) : undefined;
    if (schema !== undefined) {
      if (value === null) continue;
      if (!isPlainObject(value)) throw scimErrors.invalidValue(`${where}: "${key}" must be an object, got ${show(value)}.`);
      out.push(...expandValue(op, value, index, schema));
      continue;
    }
    if (op === "add" && value === null) continue;
    const pathText = urn === undefined ? key : `${urn}:${key}`;
    out.push({ op, path: parsePath(pathText, where), pathText, value, index, fromValueKey: true });
  }
  return out;
}

/** The known schema whose URN `text` is, in any case (RFC 7643 §3.3 extension objects). */
function schemaUrnOf(text: string): string | undefined {
  return SCHEMAS.find((s) => sameUrn(s.id, text))?.id;
}

function parsePath(text: string, where: string): PatchPath {
  const parsed = parsePatchPath(text);
  if (parsed.ok) return parsed.value;
  throw new ScimError(400, `${where}: path ${show(text)}: ${parsed.error.message}`, "invalidPath");
}
