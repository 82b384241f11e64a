/**
 * Round-trip budget of group writes (issue: performance). The Worker authenticates with one KV
 * read and hands the write to the tenant's Durable Object, which talks to D1: a create, a
 * replace or a delete is one D1 round trip (the response's read rides at the end of the write's
 * batch), and so is a PATCH of members only (Entra's; it needs nothing of the stored group). A
 * PATCH that touches the document is two (the read it applies to, then the write), one when it
 * changes nothing and asks no members back. Pinned at 10 and at 1,000 members: no count grows
 * with the group. The request's provisioning-log row rides in the DO's write batch: the
 * Worker has no D1 round trip left after the response (but the once-a-minute last-used stamp);
 * only a PATCH that writes nothing is logged after the response.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordCoordinator } from "./support/coordinator";
import { countingEnv, send, type StatementRecord } from "./support/counting-env";
import { attachSeededMembers } from "./support/group-seed";
import { createTenant, SCIM_JSON, type TestTenant } from "./support/http";
import { seedUsers } from "./support/seed";
import { GROUP, PATCH_OP } from "./support/urns";

const worker = countingEnv(env);

interface Cost {
  name: string;
  status: number;
  /** D1 round trips the Worker waited for itself. */
  workerD1: number;
  kvReads: number;
  /** D1 round trips of the Durable Object, all of which the response waited for. */
  coordinatorD1: number;
  /** Where the request's log row was written: in the DO's committed batch, or by the Worker after the response. */
  logged: { inBatch: number; after: number };
  /** The Worker's D1 round trips after the response, the last-used stamp and the webhook scope read left out. */
  workerAfter: number;
}

const isLogInsert = (s: StatementRecord) => /^insert into "request_log"/i.test(s.sql);
// The once-a-minute stamp's batch also clears the tenant's failed-authentication aggregates.
const isLastUsedStamp = (s: StatementRecord) => /^(update "tenants" set "token_last_used_at"|delete from "auth_failures")/i.test(s.sql);
// Which tenants webhook endpoints listen to (src/webhooks/endpoint-scope.ts): read after a write's
// response at most once per 10 s per isolate, so a write no endpoint wants sends no queue message.
const isWebhookScopeRead = (s: StatementRecord) => /^select "tenant_ids" from "webhook_endpoints"/i.test(s.sql);

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

describe.each([10, 1_000])("group writes on a group of %i members", (size) => {
  it("cost pinned D1 round trips, one KV read, and the Worker itself no D1 round trip", async () => {
    const tenant: TestTenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: size + 1 });
    const coordinator = await recordCoordinator(tenant.id);
    const costs: Cost[] = [];

    async function call(name: string, method: string, path: string, json?: unknown): Promise<string> {
      coordinator.reset();
      const headers: Record<string, string> = { Authorization: `Bearer ${tenant.token}` };
      if (json !== undefined) headers["Content-Type"] = SCIM_JSON;
      const body = json === undefined ? undefined : JSON.stringify(json);
      const sent = await send(worker, new Request(`${tenant.baseUrl}${path}`, { method, headers, body }));
      const text = await sent.response.text();
      expect(coordinator.roundTrips.every((t) => t.settled), `${name}: the response waited for every DO round trip`).toBe(true);
      costs.push({
        name,
        status: sent.response.status,
        workerD1: sent.before.d1RoundTrips,
        kvReads: sent.before.kvReads,
        coordinatorD1: coordinator.roundTrips.length,
        logged: {
          inBatch: coordinator.roundTrips.filter((t) => !t.failed).flatMap((t) => t.statements).filter(isLogInsert).length,
          after: sent.backgroundStatements.filter(isLogInsert).length,
        },
        workerAfter: sent.backgroundStatements.filter((s) => !isLastUsedStamp(s) && !isWebhookScopeRead(s)).length,
      });
      return text;
    }

    const created = await call("POST", "POST", "/Groups", {
      schemas: [GROUP],
      displayName: `Engineering ${size}`,
      members: [{ value: seeded.userId(1) }, { value: seeded.userId(2) }],
    });
    const groupId = (JSON.parse(created) as { id: string }).id;
    expect(await attachSeededMembers(env, seeded, groupId, 1, size)).toBe(size);
    const at = `/Groups/${groupId}`;

    await call("PATCH add 1", "PATCH", at, patch({ op: "add", path: "members", value: [{ value: seeded.userId(size + 1) }] }));
    await call("PATCH remove 1", "PATCH", at, patch({ op: "remove", path: `members[value eq "${seeded.userId(1)}"]` }));
    await call(
      "PATCH rename and add 1 (Okta)",
      "PATCH",
      at,
      patch({ op: "replace", value: { id: groupId, displayName: `Engineering ${size}` } }, { op: "add", path: "members", value: [{ value: seeded.userId(1) }] }),
    );
    await call("PATCH rename, answered with the group", "PATCH", `${at}?excludedAttributes=members`, patch({ op: "replace", path: "displayName", value: `Eng ${size}` }));
    const unchanged = await call("PATCH that changes nothing", "PATCH", `${at}?excludedAttributes=members`, patch({ op: "replace", path: "displayName", value: `Eng ${size}` }));
    const replaced = await call("PUT", "PUT", at, { schemas: [GROUP], displayName: `Eng ${size}`, members: [{ value: seeded.userId(2) }, { value: seeded.userId(3) }] });
    await call("DELETE", "DELETE", at);

    const inBatch = { logged: { inBatch: 1, after: 0 }, workerAfter: 0 };
    expect(costs).toEqual([
      { name: "POST", status: 201, workerD1: 0, kvReads: 1, coordinatorD1: 1, ...inBatch },
      { name: "PATCH add 1", status: 204, workerD1: 0, kvReads: 1, coordinatorD1: 1, ...inBatch },
      { name: "PATCH remove 1", status: 204, workerD1: 0, kvReads: 1, coordinatorD1: 1, ...inBatch },
      { name: "PATCH rename and add 1 (Okta)", status: 204, workerD1: 0, kvReads: 1, coordinatorD1: 2, ...inBatch },
      { name: "PATCH rename, answered with the group", status: 200, workerD1: 0, kvReads: 1, coordinatorD1: 2, ...inBatch },
      // Nothing to write, so nothing to carry the row: the Worker logs it after the response.
      { name: "PATCH that changes nothing", status: 200, workerD1: 0, kvReads: 1, coordinatorD1: 1, logged: { inBatch: 0, after: 1 }, workerAfter: 1 },
      { name: "PUT", status: 200, workerD1: 0, kvReads: 1, coordinatorD1: 1, ...inBatch },
      { name: "DELETE", status: 204, workerD1: 0, kvReads: 1, coordinatorD1: 1, ...inBatch },
    ]);
    // The answers read back inside the write's batch show the state that write committed.
    expect(JSON.parse(created)).toMatchObject({ displayName: `Engineering ${size}`, members: [{ value: seeded.userId(1) }, { value: seeded.userId(2) }] });
    expect(JSON.parse(unchanged)).toMatchObject({ displayName: `Eng ${size}`, meta: { version: 'W/"5"' } });
    expect(JSON.parse(unchanged)).not.toHaveProperty("members");
    const members = (JSON.parse(replaced) as { members: { value: string }[] }).members.map((m) => m.value).sort();
    expect(members).toEqual([seeded.userId(2), seeded.userId(3)].sort());
    expect(JSON.parse(replaced)).toMatchObject({ meta: { version: 'W/"6"' } });
  });
});
