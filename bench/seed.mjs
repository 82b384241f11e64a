/**
 * Seeding the benchmark tenant.
 *
 * - The plan (`seedPlan`): which users and groups exist, their ids, who is a member of what.
 *   Users 0..N-1 are the tenant; users N..N+P-1 are a "spare" pool that belongs to no group,
 *   from which the add-member scenarios take users that are not yet members. A group of size
 *   S holds users 0..S-1.
 * - Fast paths (local worker, stopped): the same plan as multi-row INSERTs matching
 *   migrations/0000_init.sql, applied straight to the D1 SQLite file with node:sqlite, or
 *   through `wrangler d1 execute DB --local --persist-to <dir> --file seed.sql`.
 * - Slow path (any running server, e.g. BASE_URL): SCIM calls with bounded concurrency.
 */
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findD1File, wrangler } from "./start-worker.mjs";

const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ROWS_PER_INSERT = 500;
const MAX_STATEMENT_CHARS = 90_000;

export const userName = (i) => `user${i}@bench.example`;
export const userExternalId = (i) => `ext-${i}`;

/** The SCIM document of seeded user i (what POST /Users would store, minus id/meta). */
export function userDoc(i, displayName = `Bench User ${i}`) {
  return {
    schemas: [USER_SCHEMA],
    externalId: userExternalId(i),
    userName: userName(i),
    name: { familyName: `User ${i}`, givenName: "Bench" },
    displayName,
    active: true,
    emails: [{ value: userName(i), type: "work", primary: true }],
  };
}

export function groupLabel(size) {
  if (size >= 1000 && size % 1000 === 0) return `g${size / 1000}k`;
  return `g${size}`;
}

/**
 * users: tenant size N; spare: the extra pool; groupSizes: nominal sizes, capped at N,
 * duplicates after capping dropped.
 */
export function seedPlan({ users, spare, groupSizes }) {
  const total = users + spare;
  const userIds = Array.from({ length: total }, () => randomUUID());
  const sizes = [...new Set(groupSizes.map((s) => Math.min(s, users)).filter((s) => s > 0))].sort((a, b) => a - b);
  const groups = sizes.map((size) => ({
    size,
    label: groupLabel(size),
    id: randomUUID(),
    displayName: `Bench group ${groupLabel(size)}`,
    externalId: `ext-group-${groupLabel(size)}`,
  }));
  return { users, spare, total, userIds, groups };
}

// --- SQL --------------------------------------------------------------------------------

const q = (v) => (v === null || v === undefined ? "NULL" : typeof v === "number" ? String(v) : `'${String(v).replaceAll("'", "''")}'`);

/** INSERTs of up to ROWS_PER_INSERT rows, each statement below D1's 100 KB statement limit. */
function* multiRowInserts(table, columns, count, row) {
  const head = `INSERT INTO ${table} (${columns.join(",")}) VALUES\n`;
  let values = [];
  let length = head.length;
  for (let i = 0; i < count; i++) {
    const tuple = `(${row(i).map(q).join(",")})`;
    if (values.length && (values.length >= ROWS_PER_INSERT || length + tuple.length + 2 > MAX_STATEMENT_CHARS)) {
      yield `${head}${values.join(",\n")};`;
      values = [];
      length = head.length;
    }
    values.push(tuple);
    length += tuple.length + 2;
  }
  if (values.length) yield `${head}${values.join(",\n")};`;
}

/** The plan as SQL statements (users, user_emails, groups, group_members, counters). */
export function* seedStatements(plan, tenantId, now = new Date().toISOString()) {
  const { userIds, total, groups } = plan;
  yield* multiRowInserts(
    "users",
    ["tenant_id", "id", "user_name", "user_name_key", "external_id", "display_name", "active", "created_at", "last_modified", "version", "doc"],
    total,
    (i) => {
      const doc = userDoc(i);
      return [tenantId, userIds[i], userName(i), userName(i).toLowerCase(), userExternalId(i), doc.displayName, 1, now, now, 1, JSON.stringify(doc)];
    },
  );
  yield* multiRowInserts("user_emails", ["tenant_id", "user_id", "value_key"], total, (i) => [tenantId, userIds[i], userName(i).toLowerCase()]);
  yield* multiRowInserts(
    "groups",
    ["tenant_id", "id", "display_name", "display_name_key", "external_id", "role", "domains", "member_count", "created_at", "last_modified", "version", "doc"],
    groups.length,
    (g) => {
      const group = groups[g];
      const doc = { schemas: [GROUP_SCHEMA], externalId: group.externalId, displayName: group.displayName };
      return [tenantId, group.id, group.displayName, group.displayName.toLowerCase(), group.externalId, null, "[]", group.size, now, now, 1, JSON.stringify(doc)];
    },
  );
  for (const group of groups) {
    yield* multiRowInserts("group_members", ["tenant_id", "group_id", "member_id", "member_type"], group.size, (i) => [tenantId, group.id, userIds[i], "User"]);
  }
  yield `UPDATE tenants SET user_count = user_count + ${total}, active_user_count = active_user_count + ${total}, group_count = group_count + ${groups.length} WHERE id = ${q(tenantId)};`;
  // Live users and groups per block of 1,024 seq values (SEQ_BLOCK_SIZE in src/storage/schema.ts): what startIndex paging seeks with.
  for (const [blocks, resources] of [["user_seq_blocks", "users"], ["group_seq_blocks", "groups"]]) {
    yield `INSERT INTO ${blocks} (tenant_id, block, live) SELECT tenant_id, seq / 1024, count(*) FROM ${resources} WHERE tenant_id = ${q(tenantId)} GROUP BY seq / 1024 ON CONFLICT (tenant_id, block) DO UPDATE SET live = excluded.live;`;
  }
}

/** Applies the seed to the stopped worker's D1 file in one transaction (node:sqlite). */
export async function seedWithSqlite(persistDir, plan, tenantId) {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(await findD1File(persistDir, tenantId));
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    db.exec("BEGIN");
    try {
      for (const statement of seedStatements(plan, tenantId)) db.exec(statement);
      const tenant = db.prepare("SELECT user_count FROM tenants WHERE id = ?").get(tenantId);
      if (!tenant) throw new Error(`tenant ${tenantId} is not in the D1 file`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/** Writes seed.sql and applies it with `wrangler d1 execute --local --file`. */
export async function seedWithWrangler(persistDir, plan, tenantId) {
  const file = join(persistDir, "seed.sql");
  await writeFile(file, [...seedStatements(plan, tenantId)].join("\n") + "\n");
  await wrangler(["d1", "execute", "DB", "--local", "--persist-to", persistDir, "--file", file, "--yes"]);
}

// --- through SCIM -------------------------------------------------------------------------

/**
 * Seeds through the API: POST /Users with `concurrency` requests in flight, then each
 * group with POST /Groups and PATCH adds of 100 members. Replaces plan.userIds with the
 * server's ids. Groups that cannot be created leave `group.available = false`.
 */
export async function seedWithScim(client, plan, { concurrency, deadline, log }) {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < plan.total && Date.now() < deadline) {
      const i = next++;
      const res = await client.json("POST", "/Users", userDoc(i));
      if (res.status === 201 && res.body?.id) plan.userIds[i] = res.body.id;
      else if (++failures > 10) throw new Error(`seeding users failed: POST /Users answered ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      if (i > 0 && i % 10_000 === 0) log(`  ${i} users`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (next < plan.total) throw new Error(`seeding users did not finish before the deadline (${next}/${plan.total})`);

  for (const group of plan.groups) {
    const created = await client.json("POST", "/Groups", { schemas: [GROUP_SCHEMA], externalId: group.externalId, displayName: group.displayName, members: [] });
    if (created.status !== 201 || !created.body?.id) {
      log(`  group ${group.label}: POST /Groups answered ${created.status}; group scenarios will be unavailable`);
      group.available = false;
      continue;
    }
    group.id = created.body.id;
    let offset = 0;
    const adder = async () => {
      while (offset < group.size && Date.now() < deadline) {
        const from = offset;
        offset += 100;
        const members = plan.userIds.slice(from, Math.min(group.size, from + 100)).map((value) => ({ value }));
        const res = await client.json("PATCH", `/Groups/${group.id}`, {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          Operations: [{ op: "Add", path: "members", value: members }],
        });
        if (res.status >= 300) throw new Error(`seeding group ${group.label} failed: PATCH answered ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, 4) }, adder));
    if (offset < group.size) throw new Error(`seeding group ${group.label} did not finish before the deadline`);
  }
}
