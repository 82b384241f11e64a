/** A failure inside the server answers a SCIM 500 that shows nothing of the internals (issue: foundation §8). */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { bodyOf, createTenant, scim } from "./support/http";
import { shardOf } from "./support/shards";

describe("internal errors", () => {
  it("answers 500 with a SCIM error body and no stack trace or SQL when stored data is corrupt", async () => {
    const tenant = await createTenant();
    const created = await scim(tenant, "/Users", { method: "POST", json: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "broken@example.com" } });
    const { id } = await bodyOf<{ id: string }>(created);
    // Corrupt the stored document so that reading it throws inside the server.
    await (await shardOf(tenant.id)).prepare("UPDATE users SET doc = '{not json' WHERE tenant_id = ? AND id = ?").bind(tenant.id, id).run();
    const res = await scim(tenant, `/Users/${id}`);
    const body = await expectScimError(res, 500);
    expect(body.detail).toBe("Internal server error.");
    const text = JSON.stringify(body);
    for (const leak of ["at ", ".ts", "SyntaxError", "users", "SELECT"]) expect(text, `leaks '${leak}'`).not.toContain(leak);
  });
});
