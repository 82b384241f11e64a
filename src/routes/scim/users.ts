// Placeholder until the Users issue lands: a valid empty list so IdP connection tests pass.
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { listResponse } from "../../scim/list-response";
import { scimJson } from "./respond";

export const userRoutes = new Hono<AppEnv>().get("/", async (c) => {
  c.var.tenantDb.scope = "users";
  await c.var.tenantDb.verify();
  return scimJson(listResponse([], 0, 1));
});
