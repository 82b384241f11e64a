/**
 * The D1 schema (drizzle). Every table carries tenant_id and every query filters by it.
 * Migrations in migrations/ are generated from this file by `npm run db:generate`.
 */
import { type SQL, sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Webhook endpoints and deliveries, console links and sessions: the directory's own tables.
export * from "./schema-directory";

export const tenants = sqliteTable(
  "tenants",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    provider: text("provider", { enum: ["okta", "entra", "generic"] }).notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    userSync: integer("user_sync", { mode: "boolean" }).notNull().default(true),
    groupSync: integer("group_sync", { mode: "boolean" }).notNull().default(true),
    /** Role given to groups the IdP creates (the host app interprets it). */
    defaultRole: text("default_role"),
    /** JSON array of email domains for groups the IdP creates. */
    domainRestrictions: text("domain_restrictions", { mode: "json" }).$type<string[]>().notNull().default([]),
    /** Link a SCIM create to an account the host app already had instead of answering 409. */
    linkExistingUsers: integer("link_existing_users", { mode: "boolean" }).notNull().default(true),
    /** SHA-256 (hex) of the one active token; NULL when none was issued yet. */
    tokenHash: text("token_hash"),
    /** SHA-256 of the token the last rotation replaced: a refusal can then say "rotated". */
    previousTokenHash: text("previous_token_hash"),
    tokenPrefix: text("token_prefix"),
    tokenLastFour: text("token_last_four"),
    tokenCreatedAt: text("token_created_at"),
    tokenLastUsedAt: text("token_last_used_at"),
    userCount: integer("user_count").notNull().default(0),
    /** Sum of length(doc) of the tenant's users (characters): what a scan filter reads (filter-cost.ts). */
    userDocChars: integer("user_doc_chars").notNull().default(0),
    activeUserCount: integer("active_user_count").notNull().default(0),
    groupCount: integer("group_count").notNull().default(0),
    /** The health last announced by an event (migrations/0011): "failing", "healthy" or NULL (never failing). */
    healthStatus: text("health_status"),
    /** "strict" refuses role and entitlement values the catalog does not know (migrations/0012). */
    roleValidation: text("role_validation", { enum: ["strict", "lenient"] }).notNull().default("lenient"),
    /** The D1 binding holding the tenant's data (directory row; migrations/0015, storage/shards.ts). */
    shard: text("shard").notNull().default("DB"),
    /** Rotations so far: the directory's token columns only move forward to the shard's newest. */
    tokenVersion: integer("token_version").notNull().default(0),
    /** Shard copy only: the shard a move is copying the tenant to; writes are refused meanwhile. */
    movingTo: text("moving_to"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("tenants_token_hash").on(t.tokenHash),
    index("tenants_previous_token_hash").on(t.previousTokenHash),
    index("tenants_shard").on(t.shard),
  ],
);

/**
 * Failed SCIM authentications per tenant named in the URL, as aggregates the operator reads
 * (GET /admin/tenants/{id}). Written at most once a second per isolate (tenancy/auth-failures.ts)
 * and deleted when a request authenticates. Never a token, a hash or a client address.
 */
export const authFailures = sqliteTable("auth_failures", {
  tenantId: text("tenant_id").primaryKey(),
  count: integer("count").notNull(),
  firstAt: text("first_at").notNull(),
  lastAt: text("last_at").notNull(),
  lastReason: text("last_reason", { enum: ["missing", "malformed", "unknown", "rotated", "other-tenant", "disabled"] }).notNull(),
  lastUserAgent: text("last_user_agent"),
});

/**
 * Self-serve onboarding links; only the SHA-256 of the code is stored. A link is live while
 * neither used nor revoked (expiry is checked on use); a tenant has at most one live link,
 * so a new link or the operator's DELETE revokes the previous one (migration 0006).
 */
export const setupLinks = sqliteTable(
  "setup_links",
  {
    codeHash: text("code_hash").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
    revokedAt: text("revoked_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("setup_links_tenant").on(t.tenantId),
    uniqueIndex("setup_links_one_live").on(t.tenantId).where(sql`${t.usedAt} IS NULL AND ${t.revokedAt} IS NULL`),
  ],
);

export const users = sqliteTable(
  "users",
  {
    /** Insertion order: the stable order for startIndex and cursor paging. */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    userName: text("user_name").notNull(),
    /** NFC + lower case: the case-insensitive uniqueness key. */
    userNameKey: text("user_name_key").notNull(),
    externalId: text("external_id"),
    /**
     * The document's displayName (null when it has none), kept beside it so that a group's
     * member page shows members' displays without parsing each member's document (up to 1 MB).
     */
    displayName: text("display_name"),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    createdAt: text("created_at").notNull(),
    lastModified: text("last_modified").notNull(),
    version: integer("version").notNull().default(1),
    /** The SCIM document without id/meta/groups, which are derived. */
    doc: text("doc", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /**
     * The role values the user carries (roles[].value, then userType), as a JSON array of
     * strings: set-based role statements read this instead of each member's document (0012).
     */
    roleValues: text("role_values", { mode: "json" }).$type<string[]>().notNull().default([]),
  },
  (t) => [
    uniqueIndex("users_tenant_id").on(t.tenantId, t.id),
    index("users_tenant_seq").on(t.tenantId, t.seq),
    uniqueIndex("users_tenant_user_name").on(t.tenantId, t.userNameKey),
    index("users_tenant_external_id").on(t.tenantId, t.externalId),
    index("users_tenant_last_modified").on(t.tenantId, t.lastModified),
  ],
);

export const groups = sqliteTable(
  "groups",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    displayName: text("display_name").notNull(),
    displayNameKey: text("display_name_key").notNull(),
    externalId: text("external_id"),
    /** Set from the tenant's onboarding settings when the IdP creates the group. */
    role: text("role"),
    domains: text("domains", { mode: "json" }).$type<string[]>().notNull().default([]),
    memberCount: integer("member_count").notNull().default(0),
    createdAt: text("created_at").notNull(),
    lastModified: text("last_modified").notNull(),
    version: integer("version").notNull().default(1),
    doc: text("doc", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    uniqueIndex("groups_tenant_id").on(t.tenantId, t.id),
    index("groups_tenant_seq").on(t.tenantId, t.seq),
    uniqueIndex("groups_tenant_display_name").on(t.tenantId, t.displayNameKey),
    index("groups_tenant_external_id").on(t.tenantId, t.externalId),
    index("groups_tenant_last_modified").on(t.tenantId, t.lastModified),
  ],
);

/** Users and groups are counted per block of this many `seq` values (see seqBlocks). */
export const SEQ_BLOCK_SIZE = 1024;

/**
 * The block of a seq, as SQL. The size is written into the SQL text: D1 binds JS numbers as
 * REAL, and `seq / 1024.0` would be a fraction, not a block number.
 */
export function seqBlockOf(seq: SQL): SQL {
  return sql`(${seq} / ${sql.raw(String(SEQ_BLOCK_SIZE))})`;
}

/**
 * Live resources per tenant and block of SEQ_BLOCK_SIZE `seq` values, kept by every create
 * and delete in the same batch. It turns `startIndex` into a seek: a page finds its block from
 * the counts (about n/1,024 rows) and skips at most a block, where an OFFSET would walk every
 * resource before the page (seq-blocks.ts).
 */
function seqBlocks<Name extends string>(name: Name) {
  return sqliteTable(
    name,
    {
      tenantId: text("tenant_id").notNull(),
      block: integer("block").notNull(),
      live: integer("live").notNull(),
    },
    (t) => [primaryKey({ columns: [t.tenantId, t.block] })],
  );
}

export const userSeqBlocks = seqBlocks("user_seq_blocks");
export const groupSeqBlocks = seqBlocks("group_seq_blocks");

/**
 * Every email value of every user, lower case: IdPs match users by email
 * (`emails[type eq "work"].value eq "…"`), and a JSON scan would grow with the tenant.
 */
export const userEmails = sqliteTable(
  "user_emails",
  {
    tenantId: text("tenant_id").notNull(),
    userId: text("user_id").notNull(),
    valueKey: text("value_key").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.valueKey, t.userId] }), index("user_emails_user").on(t.tenantId, t.userId)],
);

/**
 * Accounts the host app had before SCIM (registered through the operator API). A SCIM
 * create with the same userName or primary email links to the account instead of answering
 * 409. Keys are `linkingKey` forms (storage/linking.ts), never `uniquenessKey` ones.
 */
export const appAccounts = sqliteTable(
  "app_accounts",
  {
    tenantId: text("tenant_id").notNull(),
    accountKey: text("account_key").notNull(),
    userNameKey: text("user_name_key"),
    emailKey: text("email_key"),
    /** The SCIM user linked to this account; NULL until the IdP provisions it. */
    userId: text("user_id"),
    createdAt: text("created_at").notNull(),
    linkedAt: text("linked_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.accountKey] }),
    index("app_accounts_user_name").on(t.tenantId, t.userNameKey),
    index("app_accounts_email").on(t.tenantId, t.emailKey),
    index("app_accounts_user").on(t.tenantId, t.userId),
  ],
);

/**
 * Groups the host app had before SCIM (operator API). A SCIM create with the same
 * displayName (`linkingKey` form) links to the app group, whose membership the IdP then owns.
 */
export const appGroups = sqliteTable(
  "app_groups",
  {
    tenantId: text("tenant_id").notNull(),
    groupKey: text("group_key").notNull(),
    displayNameKey: text("display_name_key").notNull(),
    groupId: text("group_id"),
    createdAt: text("created_at").notNull(),
    linkedAt: text("linked_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.groupKey] }),
    index("app_groups_display_name").on(t.tenantId, t.displayNameKey),
    index("app_groups_group").on(t.tenantId, t.groupId),
  ],
);

/** Memberships live here, never inside the group document: adding k members is O(k). */
export const groupMembers = sqliteTable(
  "group_members",
  {
    tenantId: text("tenant_id").notNull(),
    groupId: text("group_id").notNull(),
    memberId: text("member_id").notNull(),
    memberType: text("member_type", { enum: ["User", "Group"] }).notNull().default("User"),
    /** The `display` the client sent when it added the member (migration 0013), cut to 1,024 characters. */
    display: text("display"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.groupId, t.memberId] }),
    // Covering (group_id included): a user's groups are read from this index alone. Without
    // group_id SQLite prefers the covering primary key and walks the tenant's memberships.
    index("group_members_member").on(t.tenantId, t.memberId, t.groupId),
    // Nested groups (migration 0013): a group's subgroups without walking its user members.
    index("group_members_subgroups").on(t.tenantId, t.groupId, t.memberId).where(sql`${t.memberType} = 'Group'`),
  ],
);

/**
 * The roles the app understands (issue 12): deployment-wide rows have tenant_id '' (the
 * ALL_TENANTS scope in storage/roles.ts), a tenant's own roles its id. `rank` orders them.
 */
export const catalogRoles = sqliteTable(
  "catalog_roles",
  {
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    displayName: text("display_name").notNull(),
    description: text("description"),
    rank: integer("rank").notNull().default(0),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  // catalog_roles_name: the displayName match (storage/role-sql.ts) is an index SEARCH.
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index("catalog_roles_name").on(t.tenantId, sql`lower("display_name")`)],
);

/** A tenant's entitlements (licences, permission sets), served as SCIM /Entitlements. */
export const catalogEntitlements = sqliteTable(
  "catalog_entitlements",
  {
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    displayName: text("display_name").notNull(),
    type: text("type").notNull(),
    description: text("description"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index("catalog_entitlements_name").on(t.tenantId, sql`lower("display_name")`)],
);

/** Outbox of changes for the host app, written in the same batch as the change. */
export const events = sqliteTable(
  "events",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    type: text("type").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id").notNull(),
    at: text("at").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>(),
    /** When the webhook dispatcher handed it to the queue; NULL = not yet (migrations/0010). */
    enqueuedAt: text("enqueued_at"),
  },
  // events_at: retention deletes the oldest rows by time (migrations/0007).
  // events_unenqueued: the webhook dispatch and sweep find what is not yet queued (0011).
  (t) => [
    index("events_tenant_seq").on(t.tenantId, t.seq),
    index("events_at").on(t.at),
    index("events_unenqueued").on(t.tenantId, t.seq).where(sql`${t.enqueuedAt} IS NULL`),
  ],
);

/** The provisioning log: one row per SCIM request, no bodies, no secrets. */
export const requestLog = sqliteTable(
  "request_log",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    at: text("at").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    status: integer("status").notNull(),
    scimType: text("scim_type"),
    detail: text("detail"),
    userAgent: text("user_agent"),
    durationMs: integer("duration_ms").notNull(),
  },
  // request_log_tenant_failures: the console's "failures only" page (migrations/0014).
  (t) => [
    index("request_log_tenant_seq").on(t.tenantId, t.seq),
    index("request_log_at").on(t.at),
    index("request_log_tenant_failures").on(t.tenantId, t.seq).where(sql`${t.status} >= 400`),
  ],
);

/**
 * Always empty. D1's batch() is the only transaction and cannot branch, so a write batch
 * starts with guard inserts that yield a row only when a precondition fails; the row puts
 * NULL in that precondition's NOT NULL column, which aborts the whole batch, and the error
 * names the column. Preconditions ride in the write's own round trip (storage/tenant-db.ts).
 */
export const writeGuard = sqliteTable("write_guard", {
  /** The token is the tenant's current one, the tenant is enabled, the resource's sync is on. */
  tokenCurrent: integer("token_current").notNull(),
  /** The resource exists (at the expected version, when one is given). */
  resourceCurrent: integer("resource_current").notNull(),
  /** No unlinked app account matches while linking is off. */
  noAccountConflict: integer("no_account_conflict").notNull(),
  /** Every referenced member exists in the tenant. */
  membersExist: integer("members_exist").notNull(),
  /** A strict tenant's catalog knows every role and entitlement value written (0012). */
  rolesKnown: integer("roles_known").notNull().default(1),
  /** No added member group is the group itself or one of its ancestors (migration 0013). */
  noCycle: integer("no_cycle").notNull().default(1),
  /** The nesting stays within its bounds of depth and walk size (storage/group-nesting.ts). */
  nestingBounded: integer("nesting_bounded").notNull().default(1),
});
