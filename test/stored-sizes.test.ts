/**
 * Every stored row stays under D1's 2,000,000-byte row limit (../shared/PRODUCTION-LIMITS.md):
 * externalId and displayName are capped at 1,024 characters (400 invalidValue), and a user's
 * document at 1 MiB as stored (413), which a PATCH can otherwise pass one add at a time. The
 * requests go through the counting env (support/counting-env.ts), which fails any statement
 * that binds or returns more than D1 allows.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_DOCUMENT_BYTES } from "../src/storage/document-size";
import { countingEnv, send } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { bodyOf, createTenant, SCIM_JSON, type TestTenant } from "./support/http";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

const counting = countingEnv(env);

async function request(tenant: TestTenant, method: string, path: string, json?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${tenant.token}` };
  if (json !== undefined) headers["Content-Type"] = SCIM_JSON;
  const sent = await send(counting, new Request(`${tenant.baseUrl}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) }));
  return sent.response;
}

async function storedUsers(tenantId: string): Promise<{ version: number; bytes: number }[]> {
  const { results } = await (await shardOf(tenantId)).prepare("SELECT version, length(CAST(doc AS BLOB)) AS bytes FROM users WHERE tenant_id = ?").bind(tenantId).all<{ version: number; bytes: number }>();
  return results;
}

describe("externalId and displayName are at most 1,024 characters", () => {
  const long = "é".repeat(1025);
  const fits = "😀".repeat(1024); // 1,024 characters, 2,048 UTF-16 units
  const cases: [string, string, (tenant: TestTenant, value: string) => Promise<Response>][] = [
    ["POST /Users externalId", "externalId", (t, v) => request(t, "POST", "/Users", { schemas: [USER], userName: `u-${crypto.randomUUID()}`, externalId: v })],
    ["POST /Users displayName", "displayName", (t, v) => request(t, "POST", "/Users", { schemas: [USER], userName: `u-${crypto.randomUUID()}`, displayName: v })],
    ["POST /Groups externalId", "externalId", (t, v) => request(t, "POST", "/Groups", { schemas: [GROUP], displayName: `g-${crypto.randomUUID()}`, externalId: v })],
  ];
  it.each(cases)("%s: 1,025 characters get 400 invalidValue and store nothing; 1,024 are kept", async (_label, attribute, create) => {
    const tenant = await createTenant();
    const error = await expectScimError(await create(tenant, long), 400, "invalidValue");
    expect(error.detail).toContain(attribute);
    expect(error.detail).toContain("1024");
    expect(await storedUsers(tenant.id)).toEqual([]);
    const created = await create(tenant, fits);
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await bodyOf(created))[attribute]).toBe(fits);
  });

  it("a PATCH setting displayName or externalId to 1,025 characters gets 400 invalidValue and changes nothing", async () => {
    const tenant = await createTenant();
    const created = await bodyOf<{ id: string }>(await request(tenant, "POST", "/Users", { schemas: [USER], userName: "short@example.com" }));
    for (const path of ["displayName", "externalId"]) {
      const patch = { schemas: [PATCH_OP], Operations: [{ op: "replace", path, value: long }] };
      await expectScimError(await request(tenant, "PATCH", `/Users/${created.id}`, patch), 400, "invalidValue");
    }
    expect(await storedUsers(tenant.id)).toMatchObject([{ version: 1 }]);
  });
});

describe(`a user's document is at most ${MAX_DOCUMENT_BYTES} bytes as stored`, () => {
  it("answers 413 to the PATCH add that would grow it past 1 MiB (each body under the 1 MB cap), and keeps the user as it was", async () => {
    const tenant = await createTenant();
    const created = await bodyOf<{ id: string }>(await request(tenant, "POST", "/Users", { schemas: [USER], userName: "grows@example.com" }));
    // Each add carries 400 kB of certificate; three would pass 1 MiB, four D1's 2 MB row.
    const add = (i: number) => ({ schemas: [PATCH_OP], Operations: [{ op: "add", path: "x509Certificates", value: [{ value: `${i}`.repeat(400_000) }] }] });
    for (const i of [1, 2]) {
      const res = await request(tenant, "PATCH", `/Users/${created.id}`, add(i));
      expect(res.status, (await res.clone().text()).slice(0, 300)).toBe(200);
    }
    const before = await storedUsers(tenant.id);
    expect(before[0]?.bytes).toBeGreaterThan(800_000);
    for (const i of [3, 4]) {
      const error = await expectScimError(await request(tenant, "PATCH", `/Users/${created.id}`, add(i)), 413);
      expect(error.detail).toContain(String(MAX_DOCUMENT_BYTES));
    }
    expect(await storedUsers(tenant.id)).toEqual(before);
  });
});
