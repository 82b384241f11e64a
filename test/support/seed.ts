/**
 * Seeds many users (and optionally groups with memberships) into one tenant straight through
 * D1, in one batch of a few set-based statements: 10,000 users take well under a second, where
 * POST /Users would take minutes. Rows look exactly like the server's own: documents come from
 * the server's parseResource, keys from its uniquenessKey, and user_emails / group_members /
 * the tenant's counters are filled as the write paths fill them.
 *
 * The statements go through the counting D1 proxy, so seeding obeys D1's 100-parameter limit
 * too. Ids are deterministic per call (a random UUID prefix + the user's number in hex), so a
 * test can address user i without reading it back.
 */
import { SEQ_BLOCK_SIZE } from "../../src/storage/schema";
import { parseResource, type ScimDocument, uniquenessKey } from "../../src/scim/schema";
import { countingEnv } from "./counting-env";
import { shardOf } from "./shards";
import { GROUP as GROUP_SCHEMA, USER as USER_SCHEMA } from "./urns";

export interface SeedOptions {
  /** How many users: numbered 1..users. */
  users: number;
  /** How many groups (default 0); user i is a member of group ((i - 1) % groups) + 1. */
  groups?: number;
}

export interface Seeded {
  tenantId: string;
  users: number;
  groups: number;
  userId(i: number): string;
  userName(i: number): string;
  externalId(i: number): string;
  /** The user's `emails[type eq "work"].value`. */
  workEmail(i: number): string;
  /** The user's `emails[type eq "home"].value`. */
  homeEmail(i: number): string;
  groupId(g: number): string;
  displayName(g: number): string;
  /** The group user i belongs to (undefined when no groups were seeded). */
  groupOf(i: number): number | undefined;
}

/** `xxxxxxxx-xxxx-4xxx-yxxx-` from a random UUID: ids below are that plus 12 hex digits. */
function idPrefix(): string {
  return crypto.randomUUID().slice(0, 24);
}

function documentOf(resourceType: "User" | "Group", body: Record<string, unknown>): ScimDocument {
  const parsed = parseResource(resourceType, body);
  if (!parsed.ok) throw new Error(`seed template is not a valid ${resourceType}: ${parsed.error.message}`);
  return parsed.value;
}

/** The SQL side of the naming scheme below (i is the CTE's counter). */
const SQL_NAMES = {
  userId: "? || printf('%012x', i)",
  userName: "'user' || i || '@example.com'",
  externalId: "'ext-' || i",
  workEmail: "'first.last' || i || '@corp.example'",
  homeEmail: "'home' || i || '@example.net'",
} as const;

/**
 * Numbers first..last as `n(i)`. D1 binds JS numbers as REAL: without the CAST, `'user' || i`
 * would read `user1.0`.
 */
const NUMBERS = "WITH RECURSIVE n(i) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i < ?)";

export async function seedUsers(env: Cloudflare.Env, tenantId: string, options: SeedOptions): Promise<Seeded> {
  const count = options.users;
  const groupCount = options.groups ?? 0;
  const userPrefix = idPrefix();
  const groupPrefix = idPrefix();
  const hex = (n: number) => n.toString(16).padStart(12, "0");
  const seeded: Seeded = {
    tenantId,
    users: count,
    groups: groupCount,
    userId: (i) => `${userPrefix}${hex(i)}`,
    userName: (i) => `user${i}@example.com`,
    externalId: (i) => `ext-${i}`,
    workEmail: (i) => `first.last${i}@corp.example`,
    homeEmail: (i) => `home${i}@example.net`,
    groupId: (g) => `${groupPrefix}${hex(g)}`,
    displayName: (g) => `Group ${g}`,
    groupOf: (i) => (groupCount > 0 ? ((i - 1) % groupCount) + 1 : undefined),
  };
  if (count < 1) throw new Error("seedUsers: at least one user");
  if (uniquenessKey(seeded.userName(1)) !== seeded.userName(1)) throw new Error("seed userNames must already be keys");

  const template = documentOf("User", {
    schemas: [USER_SCHEMA],
    userName: "USERNAME",
    externalId: "EXTERNAL",
    active: true,
    name: { givenName: "Seeded", familyName: "User" },
    emails: [
      { value: "WORK", type: "work", primary: true },
      { value: "HOME", type: "home" },
    ],
  });
  const emails = template.emails as { value: string; type: string }[] | undefined;
  if (template.userName !== "USERNAME" || emails?.[0]?.value !== "WORK" || emails[1]?.value !== "HOME") {
    throw new Error(`seed template paths no longer match the stored document: ${JSON.stringify(template)}`);
  }
  const now = new Date().toISOString();
  const db = await shardOf(tenantId, countingEnv(env).env);

  const statements: D1PreparedStatement[] = [
    db
      .prepare(
        `${NUMBERS}
         INSERT INTO users (tenant_id, id, user_name, user_name_key, external_id, display_name, active, created_at, last_modified, version, doc)
         SELECT ?, ${SQL_NAMES.userId}, ${SQL_NAMES.userName}, ${SQL_NAMES.userName}, ${SQL_NAMES.externalId}, ?, 1, ?, ?, 1,
                json_set(?, '$.userName', ${SQL_NAMES.userName}, '$.externalId', ${SQL_NAMES.externalId},
                         '$.emails[0].value', ${SQL_NAMES.workEmail}, '$.emails[1].value', ${SQL_NAMES.homeEmail})
         FROM n`,
      )
      .bind(1, count, tenantId, userPrefix, typeof template.displayName === "string" ? template.displayName : null, now, now, JSON.stringify(template)),
    db
      .prepare(
        `${NUMBERS}
         INSERT INTO user_emails (tenant_id, user_id, value_key)
         SELECT ?, ${SQL_NAMES.userId}, ${SQL_NAMES.workEmail} FROM n
         UNION ALL SELECT ?, ${SQL_NAMES.userId}, ${SQL_NAMES.homeEmail} FROM n`,
      )
      .bind(1, count, tenantId, userPrefix, tenantId, userPrefix),
    db
      .prepare(
        "UPDATE tenants SET user_count = user_count + ?, active_user_count = active_user_count + ?, user_doc_chars = (SELECT coalesce(sum(length(doc)), 0) FROM users WHERE tenant_id = ?) WHERE id = ?",
      )
      .bind(count, count, tenantId, tenantId),
    // The live counts per seq block that startIndex paging seeks with (src/storage/seq-blocks.ts).
    db
      .prepare(
        `INSERT INTO user_seq_blocks (tenant_id, block, live)
         SELECT tenant_id, seq / ${SEQ_BLOCK_SIZE}, count(*) FROM users WHERE tenant_id = ? GROUP BY seq / ${SEQ_BLOCK_SIZE}
         ON CONFLICT (tenant_id, block) DO UPDATE SET live = excluded.live`,
      )
      .bind(tenantId),
  ];

  if (groupCount > 0) {
    const groupTemplate = documentOf("Group", { schemas: [GROUP_SCHEMA], displayName: "DISPLAY" });
    if (groupTemplate.displayName !== "DISPLAY") throw new Error(`group template changed shape: ${JSON.stringify(groupTemplate)}`);
    const groupId = "? || printf('%012x', i)";
    const displayName = "'Group ' || i";
    statements.push(
      db
        .prepare(
          `${NUMBERS}
           INSERT INTO groups (tenant_id, id, display_name, display_name_key, external_id, role, domains, member_count, created_at, last_modified, version, doc)
           SELECT ?, ${groupId}, ${displayName}, lower(${displayName}), NULL, NULL, '[]', 0, ?, ?, 1,
                  json_set(?, '$.displayName', ${displayName})
           FROM n`,
        )
        .bind(1, groupCount, tenantId, groupPrefix, now, now, JSON.stringify(groupTemplate)),
      db
        .prepare(
          `${NUMBERS}
           INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
           SELECT ?, ? || printf('%012x', ((i - 1) % CAST(? AS INTEGER)) + 1), ${SQL_NAMES.userId}, 'User' FROM n`,
        )
        .bind(1, count, tenantId, groupPrefix, groupCount, userPrefix),
      db
        .prepare(
          `UPDATE groups SET member_count = (
             SELECT count(*) FROM group_members m WHERE m.tenant_id = groups.tenant_id AND m.group_id = groups.id)
           WHERE tenant_id = ?`,
        )
        .bind(tenantId),
      db.prepare("UPDATE tenants SET group_count = group_count + ? WHERE id = ?").bind(groupCount, tenantId),
      db
        .prepare(
          `INSERT INTO group_seq_blocks (tenant_id, block, live)
           SELECT tenant_id, seq / ${SEQ_BLOCK_SIZE}, count(*) FROM groups WHERE tenant_id = ? GROUP BY seq / ${SEQ_BLOCK_SIZE}
           ON CONFLICT (tenant_id, block) DO UPDATE SET live = excluded.live`,
        )
        .bind(tenantId),
    );
  }
  await db.batch(statements);
  await assertNamingAgrees(db, seeded, Math.min(count, 7));
  return seeded;
}

/** The SQL and TS naming must agree, or every lookup in a test would miss silently. */
async function assertNamingAgrees(db: D1Database, seeded: Seeded, i: number): Promise<void> {
  const row = await db
    .prepare("SELECT user_name, external_id, doc, (SELECT group_concat(value_key) FROM user_emails e WHERE e.tenant_id = u.tenant_id AND e.user_id = u.id) AS emails FROM users u WHERE tenant_id = ? AND id = ?")
    .bind(seeded.tenantId, seeded.userId(i))
    .first<{ user_name: string; external_id: string; doc: string; emails: string }>();
  const expected = {
    user_name: seeded.userName(i),
    external_id: seeded.externalId(i),
    emails: [seeded.workEmail(i), seeded.homeEmail(i)].sort().join(","),
  };
  const actual = row && { user_name: row.user_name, external_id: row.external_id, emails: row.emails.split(",").sort().join(",") };
  const doc = row ? (JSON.parse(row.doc) as { userName?: string; emails?: { value: string }[] }) : undefined;
  if (
    JSON.stringify(actual) !== JSON.stringify(expected) ||
    doc?.userName !== seeded.userName(i) ||
    doc.emails?.[0]?.value !== seeded.workEmail(i)
  ) {
    throw new Error(`seeded user ${i} does not match its names: ${JSON.stringify(row)} vs ${JSON.stringify(expected)}`);
  }
}
