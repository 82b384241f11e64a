/**
 * The /Bulk protocol (RFC 7644 §3.7), pure: the request's shape, the `bulkId` references
 * between its operations, and the order that resolves them. Running the operations is the
 * route's (routes/scim/bulk.ts).
 */
import { ScimError, scimErrors } from "./errors";
import { MAX_BULK_OPERATIONS } from "./features";
import { isPlainObject } from "./schema";

export const BULK_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
export const BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

export type BulkMethod = "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS = new Set<string>(["POST", "PUT", "PATCH", "DELETE"]);

/** §3.7: a reference to the resource another operation of the request creates. */
const BULK_ID_REF = /^bulkId:(.+)$/;

export interface BulkOperation {
  /** Position in the request's `Operations`, 0-based. */
  index: number;
  method: BulkMethod;
  path: string;
  bulkId?: string;
  /** The ETag a PUT, PATCH or DELETE requires (If-Match). */
  version?: string;
  data?: unknown;
  /** The bulkIds this operation's path and data refer to, in order of appearance. */
  references: string[];
}

export interface BulkRequest {
  operations: BulkOperation[];
  /** Stop after this many failed operations (§3.7.3); undefined = process them all. */
  failOnErrors?: number;
}

/** A member of `obj` by name in any case (RFC 7643 §2.1 is liberal about names; so are clients). */
function member(obj: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

/** Every `bulkId:<id>` string in a value (the body is at most 64 levels deep: routes/body.ts). */
function referencesIn(value: unknown, out: string[]): void {
  if (typeof value === "string") {
    const match = BULK_ID_REF.exec(value);
    if (match?.[1] !== undefined && !out.includes(match[1])) out.push(match[1]);
  } else if (Array.isArray(value)) {
    for (const v of value) referencesIn(v, out);
  } else if (isPlainObject(value)) {
    for (const v of Object.values(value)) referencesIn(v, out);
  }
}

/** Parses a BulkRequest; a malformed one is refused whole (400, or 413 past maxOperations) before anything runs. */
export function parseBulkRequest(body: unknown): BulkRequest {
  if (!isPlainObject(body)) throw scimErrors.invalidSyntax("A Bulk request body must be a JSON object (BulkRequest).");
  const list = member(body, "Operations");
  if (!Array.isArray(list)) throw scimErrors.invalidSyntax('A BulkRequest needs an "Operations" array.');
  // §3.7.4: past either limit, 413 naming it.
  if (list.length > MAX_BULK_OPERATIONS) {
    throw new ScimError(413, `The request has ${list.length} operations; maxOperations is ${MAX_BULK_OPERATIONS} (see /ServiceProviderConfig).`);
  }
  const rawFail = member(body, "failOnErrors");
  if (rawFail !== undefined && rawFail !== null && (typeof rawFail !== "number" || !Number.isSafeInteger(rawFail) || rawFail < 1)) {
    throw scimErrors.invalidValue(`"failOnErrors" must be an integer of at least 1, got ${JSON.stringify(rawFail)}.`);
  }
  const seen = new Set<string>();
  const operations = list.map((raw, index) => parseOperation(raw, index, seen));
  return { operations, ...(typeof rawFail === "number" ? { failOnErrors: rawFail } : {}) };
}

function parseOperation(raw: unknown, index: number, seenBulkIds: Set<string>): BulkOperation {
  const where = `Operations[${index}]`;
  if (!isPlainObject(raw)) throw scimErrors.invalidSyntax(`${where} must be an object.`);
  const method = member(raw, "method");
  if (typeof method !== "string" || !METHODS.has(method.toUpperCase())) {
    throw scimErrors.invalidSyntax(`${where}: "method" must be POST, PUT, PATCH or DELETE, got ${JSON.stringify(method) ?? "nothing"}.`);
  }
  const path = member(raw, "path");
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw scimErrors.invalidSyntax(`${where}: "path" must be a string starting with "/" (such as "/Users"), got ${JSON.stringify(path) ?? "nothing"}.`);
  }
  const bulkId = member(raw, "bulkId");
  if (bulkId !== undefined && bulkId !== null && (typeof bulkId !== "string" || bulkId === "")) {
    throw scimErrors.invalidSyntax(`${where}: "bulkId" must be a non-empty string.`);
  }
  const upper = method.toUpperCase() as BulkMethod;
  // §3.7: REQUIRED for POST, so that the client learns which created resource is which.
  if (upper === "POST" && typeof bulkId !== "string") throw scimErrors.invalidSyntax(`${where}: a POST needs a "bulkId".`);
  if (typeof bulkId === "string") {
    if (seenBulkIds.has(bulkId)) throw scimErrors.invalidValue(`${where}: bulkId "${bulkId}" is used by an earlier operation too.`);
    seenBulkIds.add(bulkId);
  }
  const version = member(raw, "version");
  if (version !== undefined && version !== null && typeof version !== "string") {
    throw scimErrors.invalidSyntax(`${where}: "version" must be an ETag string.`);
  }
  const data = member(raw, "data");
  const references: string[] = [];
  for (const segment of path.split("/")) referencesIn(segment, references);
  referencesIn(data, references);
  return {
    index,
    method: upper,
    path,
    ...(typeof bulkId === "string" ? { bulkId } : {}),
    ...(typeof version === "string" ? { version } : {}),
    ...(data !== undefined ? { data } : {}),
    references,
  };
}

/** `value` with each `bulkId:<id>` string replaced by the id its operation created. */
export function resolveReferences<T>(value: T, created: ReadonlyMap<string, string>): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      const match = BULK_ID_REF.exec(v);
      return match?.[1] !== undefined ? (created.get(match[1]) ?? v) : v;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export function resolvePath(path: string, created: ReadonlyMap<string, string>): string {
  return path
    .split("/")
    .map((segment) => resolveReferences(segment, created))
    .join("/");
}

/**
 * The order to run the operations in: request order, except that an operation referring to a
 * later one's bulkId runs after it (§3.7.2 lets a reference point forward). Operations on a
 * cycle of references (A's data names B, B's names A) are `circular`: they are refused, not run.
 */
export function executionOrder(operations: readonly BulkOperation[]): { order: number[]; circular: Set<number> } {
  const byBulkId = new Map<string, number>();
  for (const op of operations) if (op.bulkId !== undefined && op.method === "POST") byBulkId.set(op.bulkId, op.index);
  const state = new Map<number, "visiting" | "done">();
  const stack: number[] = [];
  const order: number[] = [];
  const circular = new Set<number>();
  // Iterative depth-first search: at most maxOperations deep, but no recursion is needed.
  for (const root of operations) {
    if (state.has(root.index)) continue;
    const frames: { at: number; next: number }[] = [{ at: root.index, next: 0 }];
    state.set(root.index, "visiting");
    stack.push(root.index);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      if (!frame) break;
      const op = operations[frame.at];
      const ref = op?.references[frame.next];
      if (op === undefined || ref === undefined) {
        frames.pop();
        stack.pop();
        state.set(frame.at, "done");
        order.push(frame.at);
        continue;
      }
      frame.next++;
      const target = byBulkId.get(ref);
      if (target === undefined) continue;
      const seen = state.get(target);
      if (seen === "visiting") {
        for (const i of stack.slice(stack.indexOf(target))) circular.add(i);
      } else if (seen === undefined) {
        state.set(target, "visiting");
        stack.push(target);
        frames.push({ at: target, next: 0 });
      }
    }
  }
  return { order, circular };
}
