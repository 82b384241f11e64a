-- Count the groups that existed before group_seq_blocks; 1024 = SEQ_BLOCK_SIZE in src/storage/schema.ts.
INSERT INTO `group_seq_blocks` (`tenant_id`, `block`, `live`)
SELECT `tenant_id`, `seq` / 1024, count(*) FROM `groups` GROUP BY `tenant_id`, `seq` / 1024;
