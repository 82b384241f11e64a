/**
 * The directory's own tables (storage/shards.ts): what spans tenants and so is never in a
 * tenant's shard: webhook endpoints and their deliveries, console sign-in links and sessions.
 * Part of the one D1 schema (schema.ts re-exports it; every database runs the same migrations).
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** An operator's webhook endpoint (src/webhooks/). `events`/`tenantIds` NULL = all. */
export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  events: text("events", { mode: "json" }).$type<string[]>(),
  tenantIds: text("tenant_ids", { mode: "json" }).$type<string[]>(),
  description: text("description"),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  /** `whsec_…` as handed out: it must sign, so it is kept as is (not hashed). */
  secret: text("secret").notNull(),
  /** The secret a rotation replaced; it keeps signing alongside until previousSecretExpiresAt. */
  previousSecret: text("previous_secret"),
  previousSecretExpiresAt: text("previous_secret_expires_at"),
  /** The first failed attempt since the last delivered one; NULL while deliveries succeed. */
  failingSince: text("failing_since"),
  /** Why the server disabled it (3 days of failures); NULL when enabled or disabled by the operator. */
  disabledReason: text("disabled_reason"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** One (endpoint, event) delivery and its attempts. `payload` only for events not in `events` (webhook.test). */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    endpointId: text("endpoint_id").notNull(),
    eventId: text("event_id").notNull(),
    eventSeq: integer("event_seq"),
    eventType: text("event_type").notNull(),
    tenantId: text("tenant_id"),
    payload: text("payload"),
    status: text("status", { enum: ["pending", "delivered", "retrying", "failed"] }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    lastAttemptAt: text("last_attempt_at"),
    nextAttemptAt: text("next_attempt_at"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_event").on(t.endpointId, t.eventId),
    index("webhook_deliveries_endpoint_id").on(t.endpointId, t.id),
    index("webhook_deliveries_pending").on(t.updatedAt).where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_created_at").on(t.createdAt),
  ],
);

/**
 * Single-use sign-in links to the tenant admin console (migrations/0014); only the SHA-256 of
 * the code is stored. Used once (used_at), valid 15 minutes.
 */
export const consoleLinks = sqliteTable(
  "console_links",
  {
    codeHash: text("code_hash").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("console_links_tenant").on(t.tenantId)],
);

/** Console sessions: the SHA-256 of the cookie's random id; expires_at slides with use. */
export const consoleSessions = sqliteTable(
  "console_sessions",
  {
    idHash: text("id_hash").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    createdAt: text("created_at").notNull(),
    lastSeenAt: text("last_seen_at").notNull(),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [index("console_sessions_tenant").on(t.tenantId)],
);
