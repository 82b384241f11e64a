/**
 * Per-block counts of live users and groups (schema.ts, seqBlocks): every create and delete
 * keeps its block's count in the same batch, and a `startIndex` page seeks through the counts
 * instead of walking every resource before it.
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import type { ResourceTypeName } from "../scim/schema";
import type { Database } from "./database";
import { qualified } from "./qualified";
import { groups, groupSeqBlocks, SEQ_BLOCK_SIZE, seqBlockOf, users, userSeqBlocks } from "./schema";

const TABLES = {
  User: { resources: users, blocks: userSeqBlocks },
  Group: { resources: groups, blocks: groupSeqBlocks },
} as const;

/** Counts a just-inserted resource in its block (its seq is only known to SQL, hence INSERT … SELECT). */
export function countInBlock(db: Database, type: ResourceTypeName, tenantId: string, id: string) {
  const { resources, blocks } = TABLES[type];
  return db
    .insert(blocks)
    .select(
      db
        .select({ tenantId: resources.tenantId, block: sql<number>`${seqBlockOf(sql`${resources.seq}`)}`.as("block"), live: sql<number>`1`.as("live") })
        .from(resources)
        .where(and(eq(resources.tenantId, tenantId), eq(resources.id, id))),
    )
    .onConflictDoUpdate({ target: [blocks.tenantId, blocks.block], set: { live: sql`${blocks.live} + 1` } });
}

/** Uncounts a resource about to be deleted (run before the delete in the same batch). */
export function uncountFromBlock(db: Database, type: ResourceTypeName, tenantId: string, id: string) {
  const { resources, blocks } = TABLES[type];
  const resource = and(eq(resources.tenantId, tenantId), eq(resources.id, id));
  return db
    .update(blocks)
    .set({ live: sql`${blocks.live} - 1` })
    .where(and(eq(blocks.tenantId, tenantId), sql`${qualified(blocks.block)} = (SELECT ${seqBlockOf(qualified(resources.seq))} FROM ${resources} WHERE ${resource})`));
}

/**
 * `startIndex` without a walk over every earlier resource (Okta imports page this way through
 * the whole tenant). The last block with at most `skip` live resources before it gives a seq to
 * seek to and the few rows left to skip: O(n/1,024 + 1,024), not O(startIndex).
 */
export function seekToIndex(type: ResourceTypeName, tenantId: string, skip: number): { where: SQL; offset: SQL } {
  const { resources, blocks } = TABLES[type];
  const block = qualified(blocks.block);
  const counted = sql`SELECT ${block} AS block_no, SUM(${qualified(blocks.live)}) OVER (ORDER BY ${block}) - ${qualified(blocks.live)} AS live_before FROM ${blocks} WHERE ${qualified(blocks.tenantId)} = ${tenantId}`;
  // A tenant that never had a resource has no block rows: the subquery is then NULL, and
  // `OFFSET NULL` is SQLITE_MISMATCH. Block 0 with nothing before it gives the empty page.
  const target = (column: "block_no" | "live_before") =>
    sql`COALESCE((SELECT ${sql.identifier(column)} FROM (${counted}) WHERE live_before <= ${skip} ORDER BY block_no DESC LIMIT 1), 0)`;
  return {
    where: sql`${qualified(resources.seq)} >= ${target("block_no")} * ${sql.raw(String(SEQ_BLOCK_SIZE))}`,
    offset: sql`${skip} - ${target("live_before")}`,
  };
}
