/**
 * The benchmark scenarios. Each one yields request specs for the closed loop (`next`), checks
 * one answer before the run (`validate`, on the probe), and may track what its writes did
 * (`onResult`) so later scenarios know each group's members.
 */
import { rng } from "./load.mjs";
import { shardScenarios } from "./shard-scenarios.mjs";
import { registerWebhook, runWebhookSweep, startWebhookReceiver } from "./webhook-receiver.mjs";
import { userDoc, userExternalId, userName } from "./seed.mjs";

const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const enc = encodeURIComponent;
/** How long `create-user+webhook` waits after its window for the deliveries still on their way. */
const SETTLE_MAX_MS = 30_000;
const ok2xx = (res) => res.status >= 200 && res.status < 300;

/** The no-data ceiling every data endpoint is compared with. */
export const CEILING = "spc";
/** The same request again after every other scenario: the ceiling is the mean of both. */
export const CEILING_END = "spc-end";

/**
 * Per-group state shared by the group scenarios: the non-members each add scenario may use
 * (disjoint slices of the users outside the group, so no member is added twice; add-100
 * gets three fifths), members added and not removed, and the member count the server
 * should report.
 */
function groupState(plan, group) {
  // Users not in the group: users size..N-1 of the tenant, then the spare pool.
  const free = plan.total - group.size;
  const fifth = Math.floor(free / 5);
  const slice = (from, to) => ({ next: group.size + from, end: group.size + to });
  return {
    ...group,
    pools: { add1: slice(0, fifth), concurrent: slice(fifth, 2 * fifth), add100: slice(2 * fifth, free) },
    added: [],
    originalLeft: group.size,
    expected: group.size,
    ambiguous: false,
  };
}

/** Requests a pool-limited scenario can still send. */
function poolRequests(pool, perRequest) {
  return Math.floor((pool.end - pool.next) / perRequest);
}

function takeFromPool(pool, n) {
  if (pool.end - pool.next < n) return null;
  const from = pool.next;
  pool.next += n;
  return Array.from({ length: n }, (_, i) => from + i);
}

/**
 * Builds the scenario list for a seeded plan.
 * ctx: { plan, runTag, ids: plan.userIds }
 */
export function buildScenarios(plan, runTag) {
  const { users: N, userIds } = plan;
  const groups = plan.groups.map((g) => groupState(plan, g));
  const largest = groups.at(-1);
  const tenK = [...groups].reverse().find((g) => g.size <= 10_000) ?? largest;
  const scenarios = [];
  const random = rng(0x5c1e);
  const pick = (n) => Math.floor(random() * n);
  /** A user only `conn` touches: writes by different connections never race on one user. */
  const stripedUser = (conn, connections) => conn + connections * pick(Math.max(1, Math.floor((N - conn - 1) / connections) + 1));

  const ceiling = (name, when) => ({
    name,
    ceiling: true,
    endpoint: "GET /ServiceProviderConfig",
    description: `Authenticated request that reads no tenant data (token check + request log only): the ceiling, measured ${when}.`,
    next: () => ({ method: "GET", path: "/ServiceProviderConfig" }),
    validate: (res) => (res.body?.schemas?.includes(SPC_SCHEMA) ? null : "not a ServiceProviderConfig"),
  });
  scenarios.push(ceiling(CEILING, "first"));

  scenarios.push({
    name: "get-user",
    endpoint: "GET /Users/{id}",
    description: "Read one user by id (with its groups), random user.",
    next: () => {
      const i = pick(N);
      return { method: "GET", path: `/Users/${userIds[i]}`, expectId: userIds[i] };
    },
    validate: (res, spec) => (res.body?.id === spec.expectId ? null : "wrong or missing id"),
  });

  const oneMatch = (res) => (res.body?.totalResults === 1 && res.body?.Resources?.length === 1 ? null : `totalResults ${res.body?.totalResults}, expected 1`);
  scenarios.push({
    name: "filter-username",
    endpoint: 'GET /Users?filter=userName eq "…"',
    description: "Match a user by userName (what Okta and Entra do before every create).",
    next: () => ({ method: "GET", path: `/Users?filter=${enc(`userName eq "${userName(pick(N))}"`)}` }),
    validate: oneMatch,
  });
  scenarios.push({
    name: "filter-externalid",
    endpoint: 'GET /Users?filter=externalId eq "…"',
    description: "Match a user by externalId (Entra's default matching attribute).",
    next: () => ({ method: "GET", path: `/Users?filter=${enc(`externalId eq "${userExternalId(pick(N))}"`)}` }),
    validate: oneMatch,
  });

  let page = 0;
  const pages = Math.max(1, Math.floor(N / 100));
  scenarios.push({
    name: "list-page",
    endpoint: "GET /Users?startIndex=…&count=100",
    description: "Pages of 100 users, sweeping startIndex over the whole tenant like an Okta import.",
    next: () => ({ method: "GET", path: `/Users?startIndex=${1 + 100 * (page++ % pages)}&count=100` }),
    validate: (res) => (res.body?.Resources?.length === Math.min(100, N) ? null : `itemsPerPage ${res.body?.Resources?.length}`),
  });

  // Each connection follows its own RFC 9865 cursor chain through the tenant, starting over at the end.
  const cursors = new Map();
  scenarios.push({
    name: "list-cursor",
    endpoint: "GET /Users?count=100&cursor=…",
    description: "Pages of 100 users through the whole tenant with cursors (the flat-cost way to import).",
    next: (conn) => ({ method: "GET", path: `/Users?count=100&cursor=${enc(cursors.get(conn) ?? "")}`, conn }),
    onResult: (spec, res) => cursors.set(spec.conn, res.body?.nextCursor ?? ""),
    validate: (res) => (res.body?.Resources?.length > 0 ? null : `itemsPerPage ${res.body?.Resources?.length}`),
  });

  let created = 0;
  const createUser = {
    name: "create-user",
    endpoint: "POST /Users",
    description: "Create a new user (Entra's create shape, enterprise extension, unique userName).",
    next: () => {
      const n = created++;
      const name = `new-${runTag}-${n}@bench.example`;
      return {
        method: "POST",
        path: "/Users",
        body: {
          schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
          externalId: `new-${runTag}-${n}`,
          userName: name,
          active: true,
          displayName: `New User ${n}`,
          emails: [{ primary: true, type: "work", value: name }],
          meta: { resourceType: "User" },
          name: { formatted: `New User ${n}`, familyName: `User ${n}`, givenName: "New" },
          roles: [],
          [ENTERPRISE]: { employeeNumber: String(n), department: "Bench" },
        },
      };
    },
    validate: (res) => (res.status === 201 && res.body?.id ? null : "no 201 with an id"),
  };
  scenarios.push(createUser);
  // The same writes while a webhook endpoint of this tenant receives every event (issue 11:
  // webhooks must keep writes within 10 % of writes without); `x ref` compares with create-user's.
  let receiver;
  let unregister;
  let createdBefore = 0;
  scenarios.push({
    ...createUser,
    name: "create-user+webhook",
    // The bare runtime doing the same: the write, then one signed POST of it (bench/reference.mjs).
    reference: "ref-write-post",
    description: `${createUser.description} With one webhook endpoint (a local receiver answering 204) for the tenant.`,
    // The deliveries trail the writes by 1–2 s (a coalesced message waits 1 s, the local queue
    // batches for up to 1 s): warm up past that, so the window pays for as many deliveries as it makes writes.
    minWarmupS: 3,
    setup: async (admin, tenant) => {
      createdBefore = created;
      await runWebhookSweep(admin);
      receiver = await startWebhookReceiver();
      unregister = await registerWebhook(admin, tenant.tenantId, receiver.url);
    },
    teardown: async () => {
      await unregister?.();
      await receiver?.close();
    },
    verify: async () => ({ webhookDeliveries: receiver?.received() ?? 0, distinctWebhookIds: receiver?.distinct() ?? 0 }),
    // Every write of the scenario (probe, warm-up, window) delivered: the deliveries still queued
    // when the window closed are part of what the window's writes cost.
    settle: async () => {
      const started = performance.now();
      const writes = created - createdBefore;
      const behind = writes - (receiver?.distinct() ?? 0);
      while ((receiver?.distinct() ?? 0) < writes && performance.now() - started < SETTLE_MAX_MS) await new Promise((r) => setTimeout(r, 50));
      const delivered = receiver?.distinct() ?? 0;
      const ms = Math.round(performance.now() - started);
      // A write whose event never arrived is a lost webhook (--strict fails the run).
      return { writes, behindAtWindowEnd: behind, delivered, ms, ...(delivered < writes && { error: `${writes - delivered} of ${writes} webhook deliveries still missing after ${ms} ms` }) };
    },
  });

  let puts = 0;
  scenarios.push({
    name: "put-user",
    endpoint: "PUT /Users/{id}",
    description: "Replace a user with its full body (Okta's update; id and meta included and ignored).",
    next: (conn, _k, connections) => {
      const i = stripedUser(conn, connections);
      return {
        method: "PUT",
        path: `/Users/${userIds[i]}`,
        body: { ...userDoc(i, `Bench User ${i} put ${puts++}`), id: userIds[i], meta: { resourceType: "User" } },
      };
    },
    validate: (res) => (res.status === 200 && res.body?.displayName?.includes(" put ") ? null : "the new displayName is not in the answer"),
  });

  let patches = 0;
  scenarios.push({
    name: "patch-user",
    endpoint: "PATCH /Users/{id} (Entra Replace displayName)",
    description: 'Entra\'s PATCH dialect: {"op":"Replace","path":"displayName","value":"…"}.',
    next: (conn, _k, connections) => {
      const i = stripedUser(conn, connections);
      return {
        method: "PATCH",
        path: `/Users/${userIds[i]}`,
        body: { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "displayName", value: `Bench User ${i} patch ${patches++}` }] },
      };
    },
    validate: (res) => (res.status === 204 || res.body?.displayName?.includes(" patch ") ? null : "the new displayName is not in the answer"),
  });

  if (!largest) {
    scenarios.push(ceiling(CEILING_END, "last"));
    return scenarios;
  }

  // --- group reads (before any group write, so member counts are the seeded ones) ---------
  scenarios.push({
    name: `group-get-nomembers@${largest.label}`,
    group: largest,
    endpoint: "GET /Groups/{id}?excludedAttributes=members",
    description: `Read a group without its members (Entra), on the ${largest.size}-member group.`,
    next: () => ({ method: "GET", path: `/Groups/${largest.id}?excludedAttributes=members` }),
    validate: (res) => (res.body?.id === largest.id && !("members" in res.body) ? null : "wrong id, or members returned"),
  });
  scenarios.push({
    name: `group-get-full@${tenK.label}`,
    group: tenK,
    endpoint: "GET /Groups/{id}",
    description: `Read a group with all its ${tenK.size} members.`,
    next: () => ({ method: "GET", path: `/Groups/${tenK.id}` }),
    validate: (res) => (res.body?.members?.length === tenK.expected ? null : `members ${res.body?.members?.length}, expected ${tenK.expected}`),
  });
  scenarios.push({
    name: `group-member-check@${largest.label}`,
    group: largest,
    endpoint: 'GET /Groups?filter=id eq "…" and members[value eq "…"]&excludedAttributes=members',
    description: `Entra's membership check, on the ${largest.size}-member group (the user is a member).`,
    next: () => {
      const filter = `id eq "${largest.id}" and members[value eq "${userIds[pick(largest.size)]}"]`;
      return { method: "GET", path: `/Groups?filter=${enc(filter)}&excludedAttributes=members` };
    },
    validate: (res) =>
      res.body?.totalResults === 1 && res.body?.Resources?.[0]?.id === largest.id && !("members" in res.body.Resources[0])
        ? null
        : `totalResults ${res.body?.totalResults}, expected 1 (without members)`,
  });

  // --- group writes ----------------------------------------------------------------------
  const addSpec = (group, indexes) => ({
    method: "PATCH",
    path: `/Groups/${group.id}`,
    body: { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "members", value: indexes.map((i) => ({ $ref: null, value: userIds[i] })) }] },
    added: indexes.map((i) => userIds[i]),
  });
  const trackAdd = (group) => (spec, res) => {
    if (ok2xx(res)) {
      group.added.push(...spec.added);
      group.expected += spec.added.length;
    } else if (res.status === 0) group.ambiguous = true;
  };
  const writeOk = (res) => (ok2xx(res) ? null : `status ${res.status}`);

  for (const group of groups) {
    scenarios.push({
      name: `group-add-1@${group.label}`,
      group,
      endpoint: "PATCH /Groups/{id} Add 1 member",
      description: `Entra's add: {"op":"Add","path":"members","value":[{"$ref":null,"value":"…"}]}, one new member per request, on the ${group.size}-member group.`,
      membersPerRequest: 1,
      capacity: () => poolRequests(group.pools.add1, 1),
      next: () => {
        const indexes = takeFromPool(group.pools.add1, 1);
        return indexes && addSpec(group, indexes);
      },
      onResult: trackAdd(group),
      validate: writeOk,
    });
    scenarios.push({
      name: `group-add-100@${group.label}`,
      group,
      endpoint: "PATCH /Groups/{id} Add 100 members",
      description: `Entra's add with 100 new members per request, on the ${group.size}-member group.`,
      membersPerRequest: 100,
      capacity: () => poolRequests(group.pools.add100, 100),
      next: () => {
        const indexes = takeFromPool(group.pools.add100, 100);
        return indexes && addSpec(group, indexes);
      },
      onResult: trackAdd(group),
      validate: writeOk,
    });
    scenarios.push({
      name: `group-remove-1@${group.label}`,
      group,
      endpoint: 'PATCH /Groups/{id} remove members[value eq "…"]',
      description: `Okta's removal of one member by filter path, on the ${group.size}-member group (members added earlier first, then seeded ones).`,
      membersPerRequest: 1,
      capacity: () => group.added.length + group.originalLeft,
      next: () => {
        let id = group.added.pop();
        if (id === undefined && group.originalLeft > 0) id = userIds[--group.originalLeft];
        if (id === undefined) return null;
        return {
          method: "PATCH",
          path: `/Groups/${group.id}`,
          body: { schemas: [PATCH_OP], Operations: [{ op: "remove", path: `members[value eq "${id}"]` }] },
          removed: id,
        };
      },
      onResult: (spec, res) => {
        if (ok2xx(res)) group.expected -= 1;
        else if (res.status === 0) group.ambiguous = true;
      },
      validate: writeOk,
    });
  }

  scenarios.push({
    name: `group-add-concurrent@${tenK.label}`,
    group: tenK,
    connections: 16,
    endpoint: "PATCH /Groups/{id} Add 1 member, 16 clients on the same group",
    description: `16 clients adding different members to the same ${tenK.size}-member group at once; the member count is checked afterwards (lost updates).`,
    membersPerRequest: 1,
    capacity: () => poolRequests(tenK.pools.concurrent, 1),
    next: () => {
      const indexes = takeFromPool(tenK.pools.concurrent, 1);
      return indexes && addSpec(tenK, indexes);
    },
    onResult: trackAdd(tenK),
    validate: writeOk,
    /** After the run: does the group hold every member the bench added and did not remove? */
    verify: async (client) => {
      const res = await client.json("GET", `/Groups/${tenK.id}`, undefined, { timeoutMs: 120_000 });
      if (res.status !== 200) return { checked: false, status: res.status };
      const actual = res.body?.members?.length;
      return { checked: true, expectedMembers: tenK.expected, actualMembers: actual, lostUpdates: tenK.ambiguous ? null : tenK.expected - actual };
    },
  });

  scenarios.push(...shardScenarios(runTag));
  scenarios.push(ceiling(CEILING_END, "last"));
  return scenarios;
}

/** `--scenarios a,b*`: exact names (with or without @group), or prefixes ending in `*`; the ceiling always runs. */
export function selectScenarios(all, patterns) {
  if (!patterns || patterns.length === 0) return all;
  const matches = (name) => patterns.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p || name.split("@")[0] === p));
  return all.filter((s) => s.ceiling || matches(s.name));
}
