-- Tenants on several D1 databases (src/storage/shards.ts). Every database (the directory DB and
-- each shard) runs these migrations. In the directory, `shard` is the tenant's placement: the D1
-- binding that holds its data. Tenants created before sharding keep their data in DB.
ALTER TABLE `tenants` ADD `shard` text DEFAULT 'DB' NOT NULL;
--> statement-breakpoint
-- Counts token rotations: the directory copy of the token columns only ever moves forward to the
-- shard's newest (concurrent rotations reach the two databases in either order).
ALTER TABLE `tenants` ADD `token_version` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
-- A move in progress (the target shard's name): the shard copy refuses writes until it ends.
ALTER TABLE `tenants` ADD `moving_to` text;
--> statement-breakpoint
CREATE INDEX `tenants_shard` ON `tenants` (`shard`);
