/**
 * Round trips of roles (issue 12): a user's effective roles are one D1 round trip whatever the
 * number of groups it is in (the user row carries its group roles as correlated JSON, the
 * catalog rides in the same batch), and the user writes keep their one round trip with the
 * strict-validation guard and the user.roles_changed insert inside their batch. Requests go
 * through the counting bindings, which also refuse any statement past D1's 100 parameters.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/storage/database";
import { readUserWithRoles } from "../src/storage/effective-roles";
import { countingEnv, send } from "./support/counting-env";
import { TEST_ADMIN_TOKEN } from "./support/admin-token";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import { seedUsers } from "./support/seed";
import { GROUP, PATCH_OP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

const counting = countingEnv(env);

async function userInGroups(tenant: TestTenant, groups: number): Promise<string> {
  const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `rt-${crypto.randomUUID()}@example.com`, userType: "guest" } });
  const { id } = await bodyOf<{ id: string }>(res);
  for (let g = 0; g < groups; g++) {
    const created = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: `G ${id} ${g}`, members: [{ value: id }] } });
    expect(created.status).toBe(201);
    if (g % 2 === 0) {
      const { id: groupId } = await bodyOf<{ id: string }>(created);
      await admin(`/tenants/${tenant.id}/groups/${groupId}`, { method: "PATCH", json: { role: `custom-${g}` } });
    }
  }
  return id;
}

function adminRequest(path: string): Request {
  return new Request(`http://127.0.0.1/admin${path}`, { headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
}

describe("effective roles: D1 round trips", () => {
  it("reading a user's effective roles is one round trip for 0, 1 and 30 groups", async () => {
    const tenant = await createTenant({ defaultRole: "viewer" });
    for (let g = 0; g < 30; g += 2) {
      await admin(`/tenants/${tenant.id}/roles/custom-${g}`, { method: "PUT", json: { displayName: `Custom ${g}`, rank: g } });
    }
    for (const groups of [0, 1, 30]) {
      const userId = await userInGroups(tenant, groups);
      const shard = await shardOf(tenant.id, counting.env);
      counting.reset();
      const user = await readUserWithRoles(database(shard), tenant.id, userId);
      expect(counting.counts.d1RoundTrips, `${groups} groups`).toBe(1);
      expect(counting.violations).toEqual([]);
      const expected = groups === 0 ? 0 : groups === 1 ? 1 : 15;
      expect(user?.roles.effective.filter((r) => r.startsWith("custom-")).length, `${groups} groups`).toBe(expected);
      // The odd groups keep the tenant's defaultRole, which this tenant's catalog does not know.
      expect(user?.roles.sources.filter((s) => s.from === "group").length).toBe(expected);
      expect(user?.roles.unknown).toEqual(groups > 1 ? ["guest", "viewer"] : ["guest"]);

      // Over HTTP: the operator route's tenant lookup, then that one read.
      const sent = await send(counting, adminRequest(`/tenants/${tenant.id}/users/${userId}`));
      expect(sent.response.status).toBe(200);
      expect(sent.before.d1RoundTrips, `${groups} groups over HTTP`).toBe(2);
    }
  });

  it("user writes stay one round trip (POST, PUT) and two (PATCH) with roles, strict validation on", async () => {
    const tenant = await createTenant({ roleValidation: "strict" });
    await admin(`/tenants/${tenant.id}/roles/editor`, { method: "PUT", json: { displayName: "Editor" } });
    const scimRequest = (path: string, method: string, json: unknown) =>
      new Request(`${tenant.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${tenant.token}`, "Content-Type": "application/scim+json" },
        body: JSON.stringify(json),
      });
    const post = await send(counting, scimRequest("/Users", "POST", { schemas: [USER], userName: "w@example.com", roles: [{ value: "editor" }] }));
    expect(post.response.status).toBe(201);
    expect(post.before.d1RoundTrips).toBe(1);
    const { id } = await bodyOf<{ id: string }>(post.response);
    const put = await send(counting, scimRequest(`/Users/${id}`, "PUT", { schemas: [USER], userName: "w@example.com", userType: "Editor" }));
    expect(put.response.status).toBe(200);
    expect(put.before.d1RoundTrips).toBe(1);
    const patch = await send(
      counting,
      scimRequest(`/Users/${id}`, "PATCH", { schemas: [PATCH_OP], Operations: [{ op: "add", path: "roles", value: [{ value: "editor" }] }] }),
    );
    expect(patch.response.status).toBe(200);
    expect(patch.before.d1RoundTrips).toBe(2);
  });

  it("a group role edit is one INSERT … SELECT whose rows read follow the group's members, not the tenant", async () => {
    const tenant = await createTenant();
    await admin(`/tenants/${tenant.id}/roles/editor`, { method: "PUT", json: { displayName: "Editor" } });
    // 2,000 users in two groups of 1,000: the edit touches one group.
    const seeded = await seedUsers(env, tenant.id, { users: 2000, groups: 2 });
    const request = new Request(`http://127.0.0.1/admin/tenants/${tenant.id}/groups/${seeded.groupId(1)}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ role: "editor" }),
    });
    const sent = await send(counting, request);
    expect(sent.response.status).toBe(200);
    // The tenant lookup, then one batch: the events insert and the group's update.
    expect(sent.before.d1RoundTrips).toBe(2);
    const insert = sent.statements.find((st) => st.sql.startsWith("insert into \"events\""));
    // One event per member with its 3 index entries, plus the AUTOINCREMENT counter.
    expect(insert?.rowsWritten).toBe(1000 * 4 + 1);
    // About 47 rows per member: its groups walked up the nesting (issue 13), role values and
    // catalog lookups, twice (before and after).
    expect(insert?.rowsRead ?? Infinity, `rows read ${insert?.rowsRead}`).toBeLessThan(1000 * 55);
    const plan = await (await shardOf(tenant.id)).prepare(`EXPLAIN QUERY PLAN ${insert?.sql.replace(/^insert into "events" \([^)]*\) /, "") ?? ""}`)
      .bind(...(insert?.params ?? []))
      .all<{ detail: string }>();
    // No table scan, and no walk of a tenant's whole catalog per value (catalog_roles_name).
    const scans = plan.results
      .map((r) => r.detail)
      .filter((d) => /^SCAN (users|group_members|groups|catalog_roles)\b/.test(d) || /INDEX \S+ \(tenant_id=\?\)$/.test(d));
    expect(scans, plan.results.map((r) => r.detail).join("\n")).toEqual([]);
  });
});
