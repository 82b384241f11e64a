/**
 * POST /Bulk (RFC 7644 §3.7). Each operation runs through its resource type's own operation
 * (resource-operations.ts), exactly as the single request would: the same validation, guards,
 * events, and its own provisioning-log row in its own D1 batch. The request is not atomic
 * (the RFC does not make it so): an operation that committed stays committed when a later
 * one fails. Operations run one at a time, in request order except that a `bulkId`
 * reference to a later POST runs that POST first (scim/bulk.ts).
 */
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import {
  BULK_RESPONSE_SCHEMA,
  type BulkOperation,
  executionOrder,
  parseBulkRequest,
  resolvePath,
  resolveReferences,
} from "../../scim/bulk";
import { ScimError, scimErrors } from "../../scim/errors";
import { MAX_BULK_PAYLOAD_BYTES } from "../../scim/features";
import { versionsIn } from "../../scim/resource";
import type { JsonObject } from "../../scim/schema";
import { appendRequestLog } from "../../storage/activity";
import { readJsonBody } from "../body";
import { methodNotAllowed } from "./listing";
import type { Ctx } from "./resource-operations";
import { resourceTypeAt } from "./resource-types";
import { scimJson } from "./respond";
import { tenantBaseUrl } from "./urls";

interface BulkResult {
  method: string;
  bulkId?: string;
  location?: string;
  version?: string;
  status: string;
  response?: JsonObject;
}

/** The version a Bulk operation's `version` requires, read like If-Match. */
function versionOf(op: BulkOperation): number | undefined {
  if (op.version === undefined) return undefined;
  const versions = versionsIn(op.version);
  return versions === "*" ? undefined : (versions[0] ?? -1);
}

/** The operation's resource type and id from its (resolved) path: `/Users`, `/Groups/{id}`, any case. */
function target(path: string): { endpoint: string; id?: string } {
  const segments = path.split("/").slice(1);
  while (segments.length > 0 && segments.at(-1) === "") segments.pop();
  if (segments.length === 0 || segments.length > 2) throw scimErrors.notFound(`No endpoint at ${path}.`);
  const [endpoint = "", id] = segments;
  let decoded: string | undefined;
  try {
    decoded = id === undefined ? undefined : decodeURIComponent(id);
  } catch {
    throw scimErrors.notFound(`No resource at ${path}.`);
  }
  return { endpoint, ...(decoded !== undefined ? { id: decoded } : {}) };
}

/** Runs one operation through its type's own code; the response it would have answered. */
async function dispatch(c: Ctx, op: BulkOperation, path: string, data: unknown): Promise<{ res: Response; location: string }> {
  const { endpoint, id } = target(path);
  const type = resourceTypeAt(endpoint);
  if (!type) throw scimErrors.notFound(`No endpoint at ${path}.`);
  const ops = type.operations;
  c.var.tenantDb.scope = type.scope;
  const base = `${tenantBaseUrl(c)}/${type.endpoint}`;
  const input = { body: data, ifMatch: versionOf(op) };
  if (op.method === "POST") {
    if (id !== undefined || !ops.create) throw methodError(id !== undefined ? "GET, PUT, PATCH, DELETE" : "GET");
    const res = await ops.create(c, input);
    return { res, location: res.headers.get("Location") ?? base };
  }
  if (id === undefined) throw methodError(ops.create ? "GET, POST" : "GET");
  const location = `${base}/${encodeURIComponent(id)}`;
  const run = op.method === "PUT" ? ops.replace : op.method === "PATCH" ? ops.patch : ops.remove;
  if (!run) throw methodError("GET");
  return { res: await run(c, id, input), location };
}

function methodError(allow: string): ScimError {
  return new ScimError(405, `Method not allowed here; allowed: ${allow}.`);
}

/** The id a successful POST created, from its Location. */
function createdId(location: string): string {
  return decodeURIComponent(location.slice(location.lastIndexOf("/") + 1));
}

async function runBulk(c: Ctx): Promise<Response> {
  const request = parseBulkRequest(await readJsonBody(c.req.raw, MAX_BULK_PAYLOAD_BYTES));
  const { operations, failOnErrors } = request;
  const { order, circular } = executionOrder(operations);
  const bulkIds = new Set(operations.flatMap((op) => (op.method === "POST" && op.bulkId !== undefined ? [op.bulkId] : [])));
  const created = new Map<string, string>();
  const results = new Map<number, BulkResult>();
  const tdb = c.var.tenantDb;
  const requestLog = tdb.log;
  let errors = 0;
  for (const index of order) {
    const op = operations[index];
    if (!op) continue;
    if (failOnErrors !== undefined && errors >= failOnErrors) break;
    const started = Date.now();
    const path = resolvePath(op.path, created);
    // The operation's own provisioning-log row (its method and path), committed with its write.
    const logFields = {
      at: new Date(started).toISOString(),
      method: op.method,
      path: `${new URL(c.req.url).pathname}${path}`.slice(0, 500),
      userAgent: requestLog?.userAgent ?? null,
    };
    tdb.log = { ...logFields, startedMs: started };
    tdb.loggedStatus = undefined;
    let result: BulkResult;
    try {
      const missing = op.references.find((ref) => !bulkIds.has(ref));
      if (missing !== undefined) throw scimErrors.invalidValue(`No POST in this request has bulkId "${missing}".`);
      if (circular.has(index)) throw new ScimError(409, "The operation is part of a circular chain of bulkId references; send those operations in separate requests.");
      const failed = op.references.find((ref) => !created.has(ref));
      if (failed !== undefined) throw new ScimError(409, `The operation with bulkId "${failed}" failed, so this one cannot refer to it.`);
      const { res, location } = await dispatch(c, op, path, resolveReferences(op.data, created));
      await res.body?.cancel();
      if (op.method === "POST" && op.bulkId !== undefined) created.set(op.bulkId, createdId(location));
      const etag = res.headers.get("ETag");
      result = { method: op.method, location, status: String(res.status), ...(etag ? { version: etag } : {}) };
      // A write that changed nothing committed no batch (nor did the Durable Object's), so its row is written now, as for a single request.
      if (tdb.loggedStatus !== res.status) logAfter(c, { ...logFields, status: res.status, scimType: null, detail: null, durationMs: Date.now() - started });
    } catch (error) {
      const scim = error instanceof ScimError ? error : undefined;
      // Never a 500 for the whole request once operations may have committed: this one failed alone.
      if (!scim) console.error(`bulk operation ${index} failed`, error);
      const failure = scim ?? new ScimError(500, "Internal server error.");
      errors++;
      result = { method: op.method, status: String(failure.status), response: failure.toBody() as unknown as JsonObject };
      logAfter(c, { ...logFields, status: failure.status, scimType: failure.scimType ?? null, detail: failure.message, durationMs: Date.now() - started });
    }
    results.set(index, { ...(op.bulkId !== undefined ? { bulkId: op.bulkId } : {}), ...result });
  }
  // The Bulk request's own row is written after the response (request-log.ts).
  tdb.log = requestLog;
  tdb.loggedStatus = undefined;
  tdb.scope = "none";
  // §3.7.3: the results of the operations performed, in the order the client sent them.
  const performed = operations.flatMap((op) => results.get(op.index) ?? []);
  return scimJson({ schemas: [BULK_RESPONSE_SCHEMA], Operations: performed });
}

function logAfter(c: Ctx, row: Omit<Parameters<typeof appendRequestLog>[1], "tenantId">): void {
  const tdb = c.var.tenantDb;
  c.executionCtx.waitUntil(
    appendRequestLog(tdb.db, { tenantId: tdb.tenantId, ...row }).catch((e: unknown) => console.error("request log write failed", e)),
  );
}

export const bulkRoutes = new Hono<AppEnv>().post("/", runBulk).all("/", methodNotAllowed("POST"));
