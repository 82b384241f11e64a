// Placeholder until the Groups issue lands: a valid empty list so IdP connection tests pass.
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { listResponse } from "../../scim/list-response";
import { scimJson } from "./respond";

export const groupRoutes = new Hono<AppEnv>().get("/", async (c) => {
  c.var.tenantDb.scope = "groups";
  await c.var.tenantDb.verify();
  return scimJson(listResponse([], 0, 1));
});
