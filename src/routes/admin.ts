/**
 * The operator API: the SaaS backend creates and manages tenants, issues tokens and setup
 * links, and reads events and the provisioning log. Bearer ADMIN_TOKEN.
 */
import { Hono } from "hono";
import { noStore } from "./no-store";
import { z } from "zod";
import { type AppEnv, publicOrigin, scimBaseUrl } from "../env";
import { scimErrors } from "../scim/errors";
import { listEvents, listRequestLog } from "../storage/activity";
import { database } from "../storage/database";
import { findTenant, findTenantWithAuthFailures, listTenants, type TenantRow, updateTenantSettings } from "../storage/tenants";
import { adminAuth } from "../tenancy/admin-auth";
import { createSetupLink, createTenant, removeTenant, revokeSetupLink, rotateToken } from "../tenancy/tenant-service";
import { readJsonBody } from "./body";
import { roleValidationField, tenantSettingsFields } from "./tenant-settings";
import { parseWith, validQuery } from "./validation";
import { adminDirectoryRoutes } from "./admin-directory";
import { adminRoleRoutes, tenantCatalogRoutes } from "./admin-roles";
import { enqueueTenantEvents } from "../webhooks/dispatch";
import { tenantHealth } from "../tenancy/health";
import { createConsoleLink, revokeConsoleSessions } from "../tenancy/console-session";

const createTenantBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    provider: tenantSettingsFields.provider,
    userSync: tenantSettingsFields.userSync.default(true),
    groupSync: tenantSettingsFields.groupSync.default(true),
    defaultRole: tenantSettingsFields.defaultRole.default(null),
    domainRestrictions: tenantSettingsFields.domainRestrictions.default([]),
    linkExistingUsers: z.boolean().default(true),
    roleValidation: roleValidationField.default("lenient"),
    /** Mint a self-serve setup link with the tenant (off by default: most operators hand out the token). */
    setupLink: z.boolean().default(false),
  })
  .strict();

const updateTenantBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    enabled: z.boolean(),
    ...tenantSettingsFields,
    linkExistingUsers: z.boolean(),
    roleValidation: roleValidationField,
  })
  .partial()
  .strict();

const page = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const eventsPage = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const logPage = z.object({
  before: z.coerce.number().int().min(1).default(Number.MAX_SAFE_INTEGER),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** What the operator sees of a tenant: settings and token metadata, never the token or its hash. */
function tenantView(t: TenantRow) {
  return {
    id: t.id,
    name: t.name,
    provider: t.provider,
    enabled: t.enabled,
    userSync: t.userSync,
    groupSync: t.groupSync,
    defaultRole: t.defaultRole,
    domainRestrictions: t.domainRestrictions,
    linkExistingUsers: t.linkExistingUsers,
    roleValidation: t.roleValidation,
    token: t.tokenPrefix
      ? { prefix: t.tokenPrefix, lastFour: t.tokenLastFour, createdAt: t.tokenCreatedAt, lastUsedAt: t.tokenLastUsedAt }
      : null,
    users: t.userCount,
    activeUsers: t.activeUserCount,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

export const adminRoutes = new Hono<AppEnv>()
  .use(noStore)
  .use(adminAuth)
  .post("/tenants", async (c) => {
    const { setupLink, ...input } = parseWith(createTenantBody, await readJsonBody(c.req.raw));
    // Before the write: a deployment that cannot name its public URL creates nothing.
    const origin = publicOrigin(c.env, c.req.url);
    const created = await createTenant({ db: database(c.env.DB), kv: c.env.TOKENS }, { ...input, enabled: true }, { setupLink });
    return c.json(
      {
        tenant: tenantView(created.tenant),
        scim: { baseUrl: scimBaseUrl(origin, created.tenant.id), token: created.token },
        ...(created.setupLink && { setupUrl: setupUrl(origin, created.setupLink.code) }),
      },
      201,
    );
  })
  .get("/tenants", validQuery(page), async (c) => {
    const { limit, offset } = c.req.valid("query");
    const rows = await listTenants(database(c.env.DB), limit, offset);
    return c.json({ tenants: rows.map(tenantView) });
  })
  .get("/tenants/:id", async (c) => {
    const found = await findTenantWithAuthFailures(database(c.env.DB), c.req.param("id"));
    if (!found) throw tenantNotFound();
    return c.json({
      ...tenantView(found.tenant),
      authFailures: found.authFailures,
      health: tenantHealth(found.recentRequests, found.tenant.tokenLastUsedAt, Date.now()),
    });
  })
  .patch("/tenants/:id", async (c) => {
    const changes = parseWith(updateTenantBody, await readJsonBody(c.req.raw));
    const row = await updateTenantSettings(database(c.env.DB), c.req.param("id"), changes, new Date().toISOString());
    if (!row) throw tenantNotFound();
    // tenant.enabled / tenant.disabled, when `enabled` flipped (src/webhooks/).
    if (changes.enabled !== undefined) c.executionCtx.waitUntil(enqueueTenantEvents(c.env, row.id));
    return c.json(tenantView(row));
  })
  .delete("/tenants/:id", async (c) => {
    const removed = await removeTenant({ db: database(c.env.DB), kv: c.env.TOKENS }, c.req.param("id"));
    if (!removed) throw tenantNotFound();
    return c.body(null, 204);
  })
  .post("/tenants/:id/token", async (c) => {
    const tenant = await tenantOr404(c.env.DB, c.req.param("id"));
    const origin = publicOrigin(c.env, c.req.url);
    const token = await rotateToken({ db: database(c.env.DB), kv: c.env.TOKENS }, tenant);
    if (!token) throw tenantNotFound();
    c.executionCtx.waitUntil(enqueueTenantEvents(c.env, tenant.id)); // tenant.token_rotated
    return c.json({ scim: { baseUrl: scimBaseUrl(origin, tenant.id), token } });
  })
  .post("/tenants/:id/setup-links", async (c) => {
    const tenant = await tenantOr404(c.env.DB, c.req.param("id"));
    const origin = publicOrigin(c.env, c.req.url);
    const link = await createSetupLink(database(c.env.DB), tenant.id);
    return c.json({ url: setupUrl(origin, link.code), expiresAt: link.expiresAt }, 201);
  })
  .delete("/tenants/:id/setup-links", async (c) => {
    const tenant = await tenantOr404(c.env.DB, c.req.param("id"));
    await revokeSetupLink(database(c.env.DB), tenant.id);
    return c.body(null, 204);
  })
  // The tenant admin console (routes/console/): a single-use sign-in link, valid 15 minutes.
  .post("/tenants/:id/console-links", async (c) => {
    const tenant = await tenantOr404(c.env.DB, c.req.param("id"));
    const origin = publicOrigin(c.env, c.req.url);
    const link = await createConsoleLink(database(c.env.DB), tenant.id);
    return c.json({ url: `${origin}/console/sign-in/${link.code}`, expiresAt: link.expiresAt }, 201);
  })
  .delete("/tenants/:id/console-sessions", async (c) => {
    const tenant = await tenantOr404(c.env.DB, c.req.param("id"));
    await revokeConsoleSessions(database(c.env.DB), tenant.id);
    return c.body(null, 204);
  })
  .get("/tenants/:id/events", validQuery(eventsPage), async (c) => {
    const tenant = await tenantOr404(c.env.DB, c.req.param("id"));
    const { after, limit } = c.req.valid("query");
    const rows = await listEvents(database(c.env.DB), tenant.id, after, limit);
    return c.json({ events: rows, next: rows.at(-1)?.seq ?? after });
  })
  .get("/tenants/:id/log", validQuery(logPage), async (c) => {
    const tenant = await tenantOr404(c.env.DB, c.req.param("id"));
    const { before, limit } = c.req.valid("query");
    const rows = await listRequestLog(database(c.env.DB), tenant.id, before, limit);
    return c.json({ entries: rows, next: rows.length === limit ? rows.at(-1)?.seq : null });
  })
  .route("/roles", adminRoleRoutes)
  // Last: its middleware looks the tenant up, which the routes above already do themselves.
  .route("/tenants/:id", adminDirectoryRoutes)
  // After the directory routes, so their tenant check (404) runs first.
  .route("/tenants/:id", tenantCatalogRoutes);

function setupUrl(origin: string, code: string): string {
  return `${origin}/setup/${code}`;
}

function tenantNotFound() {
  return scimErrors.notFound("No tenant with this id.");
}

async function tenantOr404(d1: D1Database, id: string): Promise<TenantRow> {
  const tenant = await findTenant(database(d1), id);
  if (!tenant) throw tenantNotFound();
  return tenant;
}
