/**
 * The HTTP routes of one resource type (RFC 7644 §3.3–§3.6), built from its operations:
 * list, .search, create, and read, replace, patch, delete by id. A method the type does not
 * offer is 405 with Allow (RFC 9110 §15.5.6).
 */
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { readJsonBody } from "../body";
import { parseWith, validQuery } from "../validation";
import { listBody } from "./list-body";
import { listQuerySchema, type ProjectionQuery, projectionQuerySchema } from "./list-query";
import { methodNotAllowed, searchBody } from "./listing";
import { ifMatchVersion } from "./preconditions";
import type { Ctx, ResourceTypeEntry } from "./resource-operations";

/** The query's projection, or undefined when it names none (a group PATCH then answers 204). */
function askedProjection(c: Ctx): ProjectionQuery | undefined {
  if (c.req.query("attributes") === undefined && c.req.query("excludedAttributes") === undefined) return undefined;
  return parseWith(projectionQuerySchema, c.req.query());
}

export function resourceRoutes(type: ResourceTypeEntry): Hono<AppEnv> {
  const ops = type.operations;
  const { create, replace, patch, remove } = ops;
  const app = new Hono<AppEnv>()
    .use(async (c, next) => {
      c.var.tenantDb.scope = type.scope;
      await next();
    })
    .get("/", validQuery(listQuerySchema), async (c) => {
      const query = c.req.valid("query");
      const page = await ops.list(c, query);
      return listBody([page], { ...page, startIndex: query.cursor !== undefined ? 1 : query.startIndex });
    })
    .post("/.search", async (c) => {
      const query = parseWith(listQuerySchema, searchBody(await readJsonBody(c.req.raw)));
      const page = await ops.list(c, query);
      return listBody([page], { ...page, startIndex: query.cursor !== undefined ? 1 : query.startIndex });
    })
    .get("/:id", (c) => ops.read(c, c.req.param("id"), parseWith(projectionQuerySchema, c.req.query())));
  const collection = ["GET"];
  const member = ["GET"];
  if (create) {
    collection.push("POST");
    app.post("/", async (c) => create(c, { body: await readJsonBody(c.req.raw), projection: askedProjection(c) }));
  }
  if (replace) {
    member.push("PUT");
    app.put("/:id", async (c) => {
      const body = await readJsonBody(c.req.raw);
      return replace(c, c.req.param("id"), { body, ifMatch: ifMatchVersion(c), projection: askedProjection(c) });
    });
  }
  if (patch) {
    member.push("PATCH");
    app.patch("/:id", async (c) => {
      const body = await readJsonBody(c.req.raw);
      return patch(c, c.req.param("id"), { body, ifMatch: ifMatchVersion(c), projection: askedProjection(c) });
    });
  }
  if (remove) {
    member.push("DELETE");
    app.delete("/:id", (c) => remove(c, c.req.param("id"), { ifMatch: ifMatchVersion(c) }));
  }
  app.all("/", methodNotAllowed(collection.join(", ")));
  app.all("/:id", methodNotAllowed(member.join(", ")));
  return app;
}
