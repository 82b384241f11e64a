/**
 * The operator API: the SaaS backend creates and manages tenants, issues tokens and setup
 * links, and reads events and the provisioning log. Bearer ADMIN_TOKEN.
 */
import { Hono } from "hono";
import { noStore } from "./no-store";
import { z } from "zod";
import { type AppEnv, publicOrigin, scimBaseUrl } from "../env";
import { ScimError, scimErrors } from "../scim/errors";
import { listEvents, listRequestLog } from "../storage/activity";
import { shardSummaries } from "../storage/placement";
import { directoryDb, isShard, shardDb } from "../storage/shards";
import { shardStates, withShardState } from "../storage/tenant-state";
import { findTenant, findTenantWithAuthFailures, listTenants, type TenantRow, updateTenantSettings } from "../storage/tenants";
import { adminAuth } from "../tenancy/admin-auth";
import { createSetupLink, createTenant, removeTenant, revokeSetupLink, rotateToken, tenantDatabases } from "../tenancy/tenant-service";
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
    /** The D1 shard to place the tenant on (TENANT_SHARDS); absent: the one with the least data. */
    shard: z.string().min(1).max(100).optional(),
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

const moveBody = z.object({ shard: z.string().min(1).max(100) }).strict();

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
    shard: t.shard,
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
    const { setupLink, shard, ...input } = parseWith(createTenantBody, await readJsonBody(c.req.raw));
    if (shard !== undefined && !isShard(c.env, shard)) throw scimErrors.invalidValue(`No shard named ${shard}: GET /admin/shards lists them.`);
    // Before the write: a deployment that cannot name its public URL creates nothing.
    const origin = publicOrigin(c.env, c.req.url);
    const created = await createTenant({ env: c.env }, { ...input, enabled: true }, { setupLink, shard });
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
    const rows = await listTenants(directoryDb(c.env), limit, offset);
    // The counters and "last used" are the shard copies' (storage/tenant-state.ts): one read per shard listed.
    const states = await Promise.all([...new Set(rows.map((r) => r.shard))].map((shard) => shardStates(shardDb(c.env, shard), rows.filter((r) => r.shard === shard).map((r) => r.id))));
    return c.json({ tenants: rows.map((row) => tenantView(withShardState(row, states.find((m) => m.has(row.id))?.get(row.id)))) });
  })
  .post("/tenants/:id/move", async (c) => {
    const { shard } = parseWith(moveBody, await readJsonBody(c.req.raw));
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    if (!isShard(c.env, shard)) throw scimErrors.invalidValue(`No shard named ${shard}: GET /admin/shards lists them.`);
    if (shard === tenant.shard) return c.json(tenantView(tenant));
    try {
      const report = await c.env.TENANT_COORDINATOR.getByName(tenant.id).moveTenant(tenant.id, tenant.shard, shard);
      const moved = await tenantOr404(c.env, tenant.id);
      return c.json({ ...tenantView(moved), copied: report.rows });
    } catch (error) {
      console.error("tenant move failed", error);
      throw new ScimError(503, `The move to ${shard} failed; the tenant is whole on ${tenant.shard} and the move may be retried.`);
    }
  })
  .get("/shards", async (c) => c.json({ shards: await shardSummaries(c.env) }))
  .get("/tenants/:id", async (c) => {
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    const found = await findTenantWithAuthFailures(tenant, shardDb(c.env, tenant.shard));
    return c.json({
      ...tenantView(found.tenant),
      authFailures: found.authFailures,
      health: tenantHealth(found.recentRequests, found.tenant.tokenLastUsedAt, Date.now()),
    });
  })
  .patch("/tenants/:id", async (c) => {
    const changes = parseWith(updateTenantBody, await readJsonBody(c.req.raw));
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    const row = await updateTenantSettings(tenantDatabases(c.env, tenant), tenant.id, changes, new Date().toISOString());
    if (!row) throw tenantNotFound();
    // tenant.enabled / tenant.disabled, when `enabled` flipped (src/webhooks/).
    if (changes.enabled !== undefined) c.executionCtx.waitUntil(enqueueTenantEvents(c.env, row.id));
    return c.json(tenantView(row));
  })
  .delete("/tenants/:id", async (c) => {
    await removeTenant({ env: c.env }, await tenantOr404(c.env, c.req.param("id")));
    return c.body(null, 204);
  })
  .post("/tenants/:id/token", async (c) => {
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    const origin = publicOrigin(c.env, c.req.url);
    const token = await rotateToken({ env: c.env }, tenant);
    if (!token) throw tenantNotFound();
    c.executionCtx.waitUntil(enqueueTenantEvents(c.env, tenant.id)); // tenant.token_rotated
    return c.json({ scim: { baseUrl: scimBaseUrl(origin, tenant.id), token } });
  })
  .post("/tenants/:id/setup-links", async (c) => {
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    const origin = publicOrigin(c.env, c.req.url);
    const link = await createSetupLink(directoryDb(c.env), tenant.id);
    return c.json({ url: setupUrl(origin, link.code), expiresAt: link.expiresAt }, 201);
  })
  .delete("/tenants/:id/setup-links", async (c) => {
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    await revokeSetupLink(directoryDb(c.env), tenant.id);
    return c.body(null, 204);
  })
  // The tenant admin console (routes/console/): a single-use sign-in link, valid 15 minutes.
  .post("/tenants/:id/console-links", async (c) => {
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    const origin = publicOrigin(c.env, c.req.url);
    const link = await createConsoleLink(directoryDb(c.env), tenant.id);
    return c.json({ url: `${origin}/console/sign-in/${link.code}`, expiresAt: link.expiresAt }, 201);
  })
  .delete("/tenants/:id/console-sessions", async (c) => {
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    await revokeConsoleSessions(directoryDb(c.env), tenant.id);
    return c.body(null, 204);
  })
  .get("/tenants/:id/events", validQuery(eventsPage), async (c) => {
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    const { after, limit } = c.req.valid("query");
    const rows = await listEvents(shardDb(c.env, tenant.shard), tenant.id, after, limit);
    return c.json({ events: rows, next: rows.at(-1)?.seq ?? after });
  })
  .get("/tenants/:id/log", validQuery(logPage), async (c) => {
    const tenant = await tenantOr404(c.env, c.req.param("id"));
    const { before, limit } = c.req.valid("query");
    const rows = await listRequestLog(shardDb(c.env, tenant.shard), tenant.id, before, limit);
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

async function tenantOr404(env: Cloudflare.Env, id: string): Promise<TenantRow> {
  const tenant = await findTenant(directoryDb(env), id);
  if (!tenant) throw tenantNotFound();
  return tenant;
}
