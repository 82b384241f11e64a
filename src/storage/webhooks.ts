/** Webhook endpoints and their deliveries (operator-level: not tenant data, so no tenant_id filter here). */
import { and, desc, eq, lt } from "drizzle-orm";
import type { Database } from "./database";
import { webhookDeliveries, webhookEndpoints } from "./schema";

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type DeliveryStatus = WebhookDeliveryRow["status"];

export interface EndpointChanges {
  url?: string;
  events?: string[] | null;
  tenantIds?: string[] | null;
  description?: string | null;
  enabled?: boolean;
}

export async function insertEndpoint(db: Database, row: WebhookEndpointRow): Promise<WebhookEndpointRow> {
  const [inserted] = await db.insert(webhookEndpoints).values(row).returning();
  if (!inserted) throw new Error("webhook endpoint insert returned no row");
  return inserted;
}

export async function listEndpoints(db: Database): Promise<WebhookEndpointRow[]> {
  return db.select().from(webhookEndpoints).orderBy(webhookEndpoints.createdAt, webhookEndpoints.id);
}

export async function listEnabledEndpoints(db: Database): Promise<WebhookEndpointRow[]> {
  return db.select().from(webhookEndpoints).where(eq(webhookEndpoints.enabled, true));
}

/** The `tenantIds` of every enabled endpoint (null: all tenants), for the per-isolate scope cache. */
export async function enabledEndpointTenantScopes(db: Database): Promise<(string[] | null)[]> {
  const rows = await db.select({ tenantIds: webhookEndpoints.tenantIds }).from(webhookEndpoints).where(eq(webhookEndpoints.enabled, true));
  return rows.map((row) => row.tenantIds);
}

export async function findEndpoint(db: Database, id: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row;
}

export async function updateEndpoint(db: Database, id: string, changes: EndpointChanges, now: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    // Enabling it again (or disabling it by hand) clears the server's reason and the failure streak.
    .set({ ...changes, ...(changes.enabled !== undefined && { disabledReason: null, failingSince: null }), updatedAt: now })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  return row;
}

/** The new secret signs from now on; the current one keeps signing alongside until `previousUntil`. */
export async function rotateEndpointSecret(db: Database, id: string, secret: string, now: string, previousUntil: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ secret, previousSecret: webhookEndpoints.secret, previousSecretExpiresAt: previousUntil, updatedAt: now })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  return row;
}

/** Removes the endpoint and its delivery history in one batch. */
export async function deleteEndpoint(db: Database, id: string): Promise<boolean> {
  const [removed] = await db.batch([
    db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id }),
    db.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id)),
  ]);
  return removed.length > 0;
}

/** Deliveries of an endpoint before a cursor (an id), newest first. */
export async function listDeliveries(db: Database, endpointId: string, before: number, limit: number): Promise<WebhookDeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, endpointId), lt(webhookDeliveries.id, before)))
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit);
}

export async function findDelivery(db: Database, id: number): Promise<WebhookDeliveryRow | undefined> {
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row;
}
