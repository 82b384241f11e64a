-- The total size of each tenant's user documents (sum of length(doc), in characters), kept by
-- every user create, replace, patch and delete: the scan budget (src/storage/filter-cost.ts)
-- refuses a filter that would read more document text than it allows. Backfilled from the rows;
-- scripts/recount-seq-blocks.sql recounts it after deploy (writes of the previous Worker in between).
ALTER TABLE `tenants` ADD `user_doc_chars` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
UPDATE `tenants` SET `user_doc_chars` = (SELECT coalesce(sum(length(`doc`)), 0) FROM `users` WHERE `users`.`tenant_id` = `tenants`.`id`);
