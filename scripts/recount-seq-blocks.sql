-- Recounts the per-block live counts that startIndex paging seeks with (src/storage/seq-blocks.ts)
-- and, last, the tenants' user document sizes the scan budget reads (src/storage/scan-budget.ts)
-- from the rows themselves; 1024 = SEQ_BLOCK_SIZE in src/storage/schema.ts. `npm run deploy` runs
-- it once the new Worker is live: users or groups that the previous Worker created or deleted
-- between the migrations and the deploy were not counted. Each statement is atomic, and the
-- Worker's own increments after it keep the counts exact.
UPDATE user_seq_blocks SET live = (
  SELECT count(*) FROM users u
  WHERE u.tenant_id = user_seq_blocks.tenant_id AND u.seq >= user_seq_blocks.block * 1024 AND u.seq < (user_seq_blocks.block + 1) * 1024
);
INSERT INTO user_seq_blocks (tenant_id, block, live)
SELECT tenant_id, seq / 1024, count(*) FROM users WHERE true GROUP BY tenant_id, seq / 1024
ON CONFLICT (tenant_id, block) DO UPDATE SET live = excluded.live;
UPDATE group_seq_blocks SET live = (
  SELECT count(*) FROM groups g
  WHERE g.tenant_id = group_seq_blocks.tenant_id AND g.seq >= group_seq_blocks.block * 1024 AND g.seq < (group_seq_blocks.block + 1) * 1024
);
INSERT INTO group_seq_blocks (tenant_id, block, live)
SELECT tenant_id, seq / 1024, count(*) FROM groups WHERE true GROUP BY tenant_id, seq / 1024
ON CONFLICT (tenant_id, block) DO UPDATE SET live = excluded.live;
-- The tenants' user document sizes for the scan budget (migrations/0008), recounted the same way.
UPDATE tenants SET user_doc_chars = (SELECT coalesce(sum(length(doc)), 0) FROM users WHERE users.tenant_id = tenants.id);
