/**
 * Operator API, per tenant: the directory the IdP provisioned (read in insertion order),
 * accounts and groups the host app already had (so SCIM creates link to them), and the
 * role/domains the app grants through each IdP group.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { scimErrors } from "../scim/errors";
import { hasLoneSurrogate } from "../scim/identifiers";
import type { Database } from "../storage/database";
import { directoryDb, rememberPlacement, tenantShardDb } from "../storage/shards";
import {
  deleteAppAccount,
  findAppAccount,
  findAppGroup,
  listGroupsAfter,
  listUsersAfter,
  updateGroupGrants,
  upsertAppAccount,
  upsertAppGroup,
} from "../storage/directory";
import { readUserWithRoles } from "../storage/effective-roles";
import { findTenant } from "../storage/tenants";
import { enqueueTenantEvents } from "../webhooks/dispatch";
import { readJsonBody } from "./body";
import { tenantSettingsFields } from "./tenant-settings";
import { parseWith, validQuery } from "./validation";

const key = z.string().min(1).max(200);
/** A name the app's account or group is linked by; a lone surrogate has no UTF-8 form to key on. */
const linkName = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !hasLoneSurrogate(s), "must be valid Unicode text (no lone surrogate)");
const accountBody = z
  .object({ userName: linkName.optional(), email: z.string().email().max(320).optional() })
  .strict()
  .refine((b) => b.userName !== undefined || b.email !== undefined, "give userName, email or both");
const appGroupBody = z.object({ displayName: linkName }).strict();
const grantsBody = z
  .object({ role: tenantSettingsFields.defaultRole.optional(), domains: tenantSettingsFields.domainRestrictions.optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.domains !== undefined, "give role, domains or both");
const page = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

function accountView(row: { accountKey: string; userId: string | null; linkedAt: string | null }) {
  return { accountKey: row.accountKey, linkedUserId: row.userId, linkedAt: row.linkedAt };
}

/** The tenant's shard; the middleware checked that the tenant exists. */
async function tenantData(c: Context<AppEnv>): Promise<Database> {
  const db = await tenantShardDb(c.env, c.req.param("id") ?? "");
  if (!db) throw scimErrors.notFound("No tenant with this id.");
  return db;
}

export const adminDirectoryRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    const tenant = await findTenant(directoryDb(c.env), c.req.param("id") ?? "");
    if (!tenant) throw scimErrors.notFound("No tenant with this id.");
    rememberPlacement(tenant.id, tenant.shard); // the routes below read it back without a round trip
    await next();
  })
  .get("/users", validQuery(page), async (c) => {
    const { after, limit } = c.req.valid("query");
    const rows = await listUsersAfter(await tenantData(c), c.req.param("id") ?? "", after, limit);
    return c.json({ users: rows, next: rows.at(-1)?.seq ?? after });
  })
  // One user with its effective roles (issue 12): one D1 round trip.
  .get("/users/:userId", async (c) => {
    const user = await readUserWithRoles(await tenantData(c), c.req.param("id") ?? "", c.req.param("userId"));
    if (!user) throw scimErrors.notFound("No user with this id in this tenant.");
    return c.json(user);
  })
  .get("/groups", validQuery(page), async (c) => {
    const { after, limit } = c.req.valid("query");
    const rows = await listGroupsAfter(await tenantData(c), c.req.param("id") ?? "", after, limit);
    return c.json({ groups: rows, next: rows.at(-1)?.seq ?? after });
  })
  .patch("/groups/:groupId", async (c) => {
    const grants = parseWith(grantsBody, await readJsonBody(c.req.raw));
    const row = await updateGroupGrants(await tenantData(c), c.req.param("id") ?? "", c.req.param("groupId"), grants);
    if (!row) throw scimErrors.notFound("No group with this id in this tenant.");
    // user.roles_changed events of a role edit go to the webhook queue (src/webhooks/).
    if (grants.role !== undefined) c.executionCtx.waitUntil(enqueueTenantEvents(c.env, c.req.param("id") ?? ""));
    return c.json(row);
  })
  .put("/accounts/:accountKey", async (c) => {
    const accountKey = parseWith(key, c.req.param("accountKey"));
    const identity = parseWith(accountBody, await readJsonBody(c.req.raw));
    const row = await upsertAppAccount(await tenantData(c), c.req.param("id") ?? "", accountKey, identity);
    return c.json(accountView(row));
  })
  .get("/accounts/:accountKey", async (c) => {
    const row = await findAppAccount(await tenantData(c), c.req.param("id") ?? "", c.req.param("accountKey"));
    if (!row) throw scimErrors.notFound("No such account registered for this tenant.");
    return c.json(accountView(row));
  })
  .delete("/accounts/:accountKey", async (c) => {
    const removed = await deleteAppAccount(await tenantData(c), c.req.param("id") ?? "", c.req.param("accountKey"));
    if (!removed) throw scimErrors.notFound("No such account registered for this tenant.");
    return c.body(null, 204);
  })
  .put("/app-groups/:groupKey", async (c) => {
    const groupKey = parseWith(key, c.req.param("groupKey"));
    const { displayName } = parseWith(appGroupBody, await readJsonBody(c.req.raw));
    const row = await upsertAppGroup(await tenantData(c), c.req.param("id") ?? "", groupKey, displayName);
    return c.json({ groupKey: row.groupKey, linkedGroupId: row.groupId, linkedAt: row.linkedAt });
  })
  .get("/app-groups/:groupKey", async (c) => {
    const row = await findAppGroup(await tenantData(c), c.req.param("id") ?? "", c.req.param("groupKey"));
    if (!row) throw scimErrors.notFound("No such group registered for this tenant.");
    return c.json({ groupKey: row.groupKey, linkedGroupId: row.groupId, linkedAt: row.linkedAt });
  });
