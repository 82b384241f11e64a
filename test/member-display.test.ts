/**
 * A group member's `display` is its user's current displayName, or its userName when it has
 * none, read from users.display_name (kept by every user write): a member page of 5,000 rows
 * must not parse 5,000 user documents of up to 1 MB each (storage/group-members.ts).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingEnv, send, type StatementRecord } from "./support/counting-env";
import { bodyOf, createTenant, scim } from "./support/http";
import { seedUsers } from "./support/seed";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

const worker = countingEnv(env);
const MEMBERS = 20;
const CERTIFICATE_CHARS = 200_000;

interface GroupJson {
  id: string;
  members?: { value: string; display?: string }[];
}

function memberStatements(statements: StatementRecord[]): StatementRecord[] {
  return statements.filter((s) => s.sql.includes('"group_members"') && s.sql.includes("member_type"));
}

describe("a group member's display", () => {
  it(`follows the user's displayName through PUT and PATCH, falls back to userName, and is read without parsing the members' ${CERTIFICATE_CHARS / 1000} kB documents`, async () => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: MEMBERS });
    // Large but valid documents: one long certificate each.
    await (await shardOf(tenant.id)).prepare("UPDATE users SET doc = json_set(doc, '$.x509Certificates', json_array(json_object('value', hex(zeroblob(?))))) WHERE tenant_id = ?")
      .bind(CERTIFICATE_CHARS / 2, tenant.id)
      .run();
    const created = await scim(tenant, "/Groups", {
      method: "POST",
      json: { schemas: [GROUP], displayName: "Big documents", members: Array.from({ length: MEMBERS }, (_, i) => ({ value: seeded.userId(i + 1) })) },
    });
    const group = await bodyOf<GroupJson>(created);
    expect(created.status, JSON.stringify(group)).toBe(201);

    const put = await scim(tenant, `/Users/${seeded.userId(1)}`, {
      method: "PUT",
      json: { schemas: [USER], userName: seeded.userName(1), displayName: "Ada Lovelace" },
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const patch = (i: number, Operations: unknown[]) =>
      scim(tenant, `/Users/${seeded.userId(i)}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations } });
    expect((await patch(2, [{ op: "add", path: "displayName", value: "Grace Hopper" }])).status).toBe(200);
    expect((await patch(3, [{ op: "replace", value: { displayName: "Temporary" } }])).status).toBe(200);
    expect((await patch(3, [{ op: "remove", path: "displayName" }])).status).toBe(200);
    expect((await patch(4, [{ op: "replace", path: "displayName", value: "First" }])).status).toBe(200);
    expect((await patch(4, [{ op: "replace", path: "displayName", value: "Second" }])).status).toBe(200);

    const expected = new Map(Array.from({ length: MEMBERS }, (_, i) => [seeded.userId(i + 1), seeded.userName(i + 1)]));
    expected.set(seeded.userId(1), "Ada Lovelace");
    expected.set(seeded.userId(2), "Grace Hopper");
    expected.set(seeded.userId(4), "Second");

    for (const path of [`/Groups/${group.id}`, "/Groups"]) {
      const sent = await send(worker, new Request(`${tenant.baseUrl}${path}`, { headers: { Authorization: `Bearer ${tenant.token}` } }));
      const text = await sent.response.text();
      expect(sent.response.status, text.slice(0, 300)).toBe(200);
      const read = path === "/Groups" ? (JSON.parse(text) as { Resources: GroupJson[] }).Resources[0] : (JSON.parse(text) as GroupJson);
      const displays = new Map((read?.members ?? []).map((m) => [m.value, m.display]));
      expect(displays, path).toEqual(expected);
      const statements = memberStatements(sent.statements);
      expect(statements.length, `${path}: the member page statement`).toBeGreaterThan(0);
      for (const s of statements) expect(s.sql, `${path}: the member page parses no user document`).not.toContain("json_extract");
    }
  });
});

describe("a member's display as the client sent it", () => {
  it("is shown for a user without a displayName (POST, PUT and PATCH add), while a user's own displayName and a group's displayName win", async () => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: 4 });
    // Seeded users have no displayName; user 4 gets one.
    const named = await scim(tenant, `/Users/${seeded.userId(4)}`, {
      method: "PUT",
      json: { schemas: [USER], userName: seeded.userName(4), displayName: "Own Name" },
    });
    expect(named.status, await named.clone().text()).toBe(200);
    const inner = await bodyOf<GroupJson>(await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Inner" } }));
    const created = await scim(tenant, "/Groups", {
      method: "POST",
      json: {
        schemas: [GROUP],
        displayName: "Displays",
        members: [
          { value: seeded.userId(1), display: "Sent One" },
          { value: seeded.userId(4), display: "Sent Four" },
          { value: inner.id, display: "Sent Inner" },
        ],
      },
    });
    const group = await bodyOf<GroupJson>(created);
    expect(created.status, JSON.stringify(group)).toBe(201);
    const displays = async () => {
      const read = await bodyOf<GroupJson>(await scim(tenant, `/Groups/${group.id}`));
      return Object.fromEntries((read.members ?? []).map((m) => [m.value, m.display]));
    };
    const patched = await scim(tenant, `/Groups/${group.id}`, {
      method: "PATCH",
      json: { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members", value: [{ value: seeded.userId(2), display: "Sent Two" }, { value: seeded.userId(3) }] }] },
    });
    expect(patched.status, await patched.clone().text()).toBe(204);
    expect(await displays()).toEqual({
      [seeded.userId(1)]: "Sent One",
      [seeded.userId(2)]: "Sent Two",
      [seeded.userId(3)]: seeded.userName(3),
      [seeded.userId(4)]: "Own Name",
      [inner.id]: "Inner",
    });

    const put = await scim(tenant, `/Groups/${group.id}`, {
      method: "PUT",
      json: { schemas: [GROUP], displayName: "Displays", members: [{ value: seeded.userId(1), display: "Replaced One" }] },
    });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(await displays()).toEqual({ [seeded.userId(1)]: "Replaced One" });
  });
});
