/**
 * Tokens, webhook secrets and setup links are secrets, and the rest of the operator API is a
 * tenant's data: no such response may be kept by a browser or a proxy cache.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

export const noStore = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.res.headers.set("Cache-Control", "no-store");
});
