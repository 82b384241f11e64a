/** zod at the HTTP edge, wrapped so a failed validation is our 400 invalidValue, never zod's own shape. */
import { zValidator } from "@hono/zod-validator";
import type { z } from "zod";
import { scimErrors } from "../scim/errors";

function describe(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.map(String).join(".") : "body"}: ${issue.message}`)
    .join("; ");
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw scimErrors.invalidValue(describe(result.error));
  return result.data;
}

export function validQuery<S extends z.ZodType>(schema: S) {
  return zValidator("query", schema, (result) => {
    if (!result.success) throw scimErrors.invalidValue(describe(result.error));
  });
}
