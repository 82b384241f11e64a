/**
 * Two tenants loaded at once (issue 15): the same create-user writes, half to each tenant, with
 * both tenants on one D1 shard and then on two. Each scenario's setup creates its own two tenants
 * through the operator API (`shard` names the placement); requests carry the tenant's own path
 * and token (`absolute`, `token` in the spec).
 */
import { postJson } from "./http.mjs";

async function tenantOn(admin, shard, tag) {
  const res = await postJson(admin.origin, "/admin/tenants", admin.token, { name: `bench ${tag} ${shard}`, provider: "entra", shard });
  if (res.status !== 201) throw new Error(`POST /admin/tenants (shard ${shard}) answered ${res.status}: ${res.text.slice(0, 200)}`);
  return { id: res.body.tenant.id, token: res.body.scim.token };
}

function twoTenants(name, shards, runTag) {
  let tenants = [];
  let created = 0;
  return {
    name,
    endpoint: "POST /Users",
    description: `create-user, alternating between two new tenants placed on ${shards.join(" and ")}.`,
    setup: async (admin) => {
      tenants = [await tenantOn(admin, shards[0], `${runTag} a`), await tenantOn(admin, shards[1], `${runTag} b`)];
    },
    next: (conn) => {
      const tenant = tenants[conn % 2];
      if (!tenant) return null;
      const n = created++;
      const userName = `${name}-${runTag}-${n}@bench.example`;
      return {
        method: "POST",
        path: `/scim/v2/${tenant.id}/Users`,
        absolute: true,
        token: tenant.token,
        body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName, active: true, emails: [{ primary: true, type: "work", value: userName }] },
      };
    },
    validate: (res) => (res.status === 201 && res.body?.id ? null : "no 201 with an id"),
  };
}

export function shardScenarios(runTag) {
  return [twoTenants("two-tenants@one-shard", ["DB", "DB"], runTag), twoTenants("two-tenants@two-shards", ["DB", "SHARD_1"], runTag)];
}
