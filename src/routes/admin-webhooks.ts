/**
 * /admin/webhooks: the operator's webhook endpoints (Bearer ADMIN_TOKEN, RFC 7644 §3.12 errors
 * like the rest of the operator API). The secret is shown by the create and rotate answers only.
 */
import { Hono } from "hono";
import { noStore } from "./no-store";
import { z } from "zod";
import type { AppEnv } from "../env";
import { ScimError, scimErrors } from "../scim/errors";
import { directoryDb } from "../storage/shards";
import { insertDelivery, requeueDelivery } from "../storage/webhook-outbox";
import {
  deleteEndpoint,
  findDelivery,
  findEndpoint,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "../storage/webhooks";
import { adminAuth } from "../tenancy/admin-auth";
import { forgetEndpointScope } from "../webhooks/endpoint-scope";
import { MAX_URL_CHARS, webhookUrlProblem } from "../webhooks/endpoint-url";
import { WEBHOOK_EVENT_TYPES } from "../webhooks/event-types";
import { sendMessages } from "../webhooks/messages";
import { testPayload } from "../webhooks/payload";
import { newWebhookSecret } from "../webhooks/signing";
import { readJsonBody } from "./body";
import { parseWith, validQuery } from "./validation";

/** How long a rotated-out secret keeps signing next to the new one. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3_600_000;

const url = z
  .string()
  .max(MAX_URL_CHARS)
  .superRefine((value, ctx) => {
    const problem = webhookUrlProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem.replace(/^url: /, "") });
  });
const endpointFields = {
  url,
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).nullable(),
  tenantIds: z.array(z.string().min(1).max(100)).min(1).max(100).nullable(),
  description: z.string().max(500).nullable(),
};
const createBody = z
  .object({
    url: endpointFields.url,
    events: endpointFields.events.default(null),
    tenantIds: endpointFields.tenantIds.default(null),
    description: endpointFields.description.default(null),
  })
  .strict();
const updateBody = z
  .object({ ...endpointFields, enabled: z.boolean() })
  .partial()
  .strict();

/** What the operator sees of an endpoint; the secret only where `withSecret`. */
export function endpointView(row: WebhookEndpointRow, withSecret = false) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    tenantIds: row.tenantIds,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    failingSince: row.failingSince,
    ...(withSecret && { secret: row.secret }),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const deliveriesPage = z.object({
  before: z.coerce.number().int().min(1).default(Number.MAX_SAFE_INTEGER),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function deliveryView(row: WebhookDeliveryRow) {
  return {
    id: row.id,
    eventId: row.eventId,
    type: row.eventType,
    tenantId: row.tenantId,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    lastAttemptAt: row.lastAttemptAt,
    nextAttemptAt: row.nextAttemptAt,
    createdAt: row.createdAt,
  };
}

export function endpointNotFound() {
  return scimErrors.notFound("No webhook endpoint with this id.");
}

export async function endpointOr404(env: Cloudflare.Env, id: string): Promise<WebhookEndpointRow> {
  const row = await findEndpoint(directoryDb(env), id);
  if (!row) throw endpointNotFound();
  return row;
}

export const adminWebhookRoutes = new Hono<AppEnv>()
  .use(noStore)
  .use(adminAuth)
  .post("/", async (c) => {
    const input = parseWith(createBody, await readJsonBody(c.req.raw));
    const now = new Date().toISOString();
    const row = await insertEndpoint(directoryDb(c.env), {
      id: crypto.randomUUID(),
      ...input,
      enabled: true,
      secret: newWebhookSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      failingSince: null,
      disabledReason: null,
      createdAt: now,
      updatedAt: now,
    });
    forgetEndpointScope();
    return c.json(endpointView(row, true), 201);
  })
  .get("/", async (c) => {
    const rows = await listEndpoints(directoryDb(c.env));
    return c.json({ webhooks: rows.map((row) => endpointView(row)) });
  })
  .get("/:id", async (c) => c.json(endpointView(await endpointOr404(c.env, c.req.param("id")))))
  .patch("/:id", async (c) => {
    const changes = parseWith(updateBody, await readJsonBody(c.req.raw));
    const row = await updateEndpoint(directoryDb(c.env), c.req.param("id"), changes, new Date().toISOString());
    if (!row) throw endpointNotFound();
    forgetEndpointScope();
    return c.json(endpointView(row));
  })
  .delete("/:id", async (c) => {
    if (!(await deleteEndpoint(directoryDb(c.env), c.req.param("id")))) throw endpointNotFound();
    forgetEndpointScope();
    return c.body(null, 204);
  })
  .post("/:id/rotate-secret", async (c) => {
    const now = Date.now();
    const row = await rotateEndpointSecret(
      directoryDb(c.env),
      c.req.param("id"),
      newWebhookSecret(),
      new Date(now).toISOString(),
      new Date(now + PREVIOUS_SECRET_TTL_MS).toISOString(),
    );
    if (!row) throw endpointNotFound();
    return c.json({ ...endpointView(row, true), previousSecretExpiresAt: row.previousSecretExpiresAt });
  })
  .post("/:id/test", async (c) => {
    const endpoint = await endpointOr404(c.env, c.req.param("id"));
    const now = new Date().toISOString();
    const payload = testPayload(endpoint.id, now);
    const delivery = await insertDelivery(directoryDb(c.env), {
      endpointId: endpoint.id,
      eventId: payload.id,
      eventSeq: null,
      eventType: payload.type,
      tenantId: null,
      payload: JSON.stringify(payload),
      status: "pending",
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    });
    // Awaited: the operator asked for it now. If the send fails, the sweep sends it within a minute or two.
    await sendMessages(c.env.WEBHOOK_QUEUE, [{ kind: "delivery", deliveryId: delivery.id }]);
    return c.json(deliveryView(delivery), 202);
  })
  .get("/:id/deliveries", validQuery(deliveriesPage), async (c) => {
    const endpoint = await endpointOr404(c.env, c.req.param("id"));
    const { before, limit } = c.req.valid("query");
    const rows = await listDeliveries(directoryDb(c.env), endpoint.id, before, limit);
    return c.json({ deliveries: rows.map(deliveryView), next: rows.length === limit ? (rows.at(-1)?.id ?? null) : null });
  })
  .post("/:id/deliveries/:deliveryId/retry", async (c) => {
    const endpoint = await endpointOr404(c.env, c.req.param("id"));
    const deliveryId = Number(c.req.param("deliveryId"));
    const notFound = () => scimErrors.notFound("No delivery with this id for this webhook endpoint.");
    if (!Number.isSafeInteger(deliveryId) || deliveryId < 1) throw notFound();
    const db = directoryDb(c.env);
    const row = await requeueDelivery(db, endpoint.id, deliveryId, new Date().toISOString());
    if (!row) {
      const existing = await findDelivery(db, deliveryId);
      if (!existing || existing.endpointId !== endpoint.id) throw notFound();
      throw new ScimError(409, `This delivery is ${existing.status}: it is already on its way, nothing to retry.`);
    }
    await sendMessages(c.env.WEBHOOK_QUEUE, [{ kind: "delivery", deliveryId: row.id }]);
    return c.json(deliveryView(row), 202);
  });
