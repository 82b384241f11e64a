/** The operator API's bearer check against the ADMIN_TOKEN secret, in constant time. */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { scimErrors } from "../scim/errors";
import { bearerToken, secretsEqual } from "./tokens";

export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) {
    throw scimErrors.forbidden("The operator API is disabled: set the ADMIN_TOKEN secret.");
  }
  const token = bearerToken(c.req.header("Authorization"));
  if (!token || !(await secretsEqual(token, expected))) {
    throw scimErrors.unauthorized("A valid operator token is required: send 'Authorization: Bearer <ADMIN_TOKEN>'.");
  }
  await next();
});
