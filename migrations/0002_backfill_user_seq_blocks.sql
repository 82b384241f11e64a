-- Custom SQL migration file, put your code below! ---- Count the users that existed before user_seq_blocks; 1024 = SEQ_BLOCK_SIZE in src/storage/schema.ts.
INSERT INTO `user_seq_blocks` (`tenant_id`, `block`, `live`)
SELECT `tenant_id`, `seq` / 1024, count(*) FROM `users` GROUP BY `tenant_id`, `seq` / 1024;
