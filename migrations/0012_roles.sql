-- Issue 12: the role catalog (deployment-wide rows have tenant_id ''), the entitlement catalog,
-- the tenant's roleValidation, each user's role values beside its document, and the guard
-- column a strict tenant's write aborts on (src/storage/roles.ts, src/scim/roles.ts).
CREATE TABLE `catalog_roles` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`display_name` text NOT NULL,
	`description` text,
	`rank` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
CREATE TABLE `catalog_entitlements` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`display_name` text NOT NULL,
	`type` text NOT NULL,
	`description` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
-- A value that names no role id is matched by displayName (ASCII case-insensitive): an index
-- on the same expression keeps that a SEARCH, not a walk of the tenant's catalog per value.
CREATE INDEX `catalog_roles_name` ON `catalog_roles` (`tenant_id`,lower("display_name"));
--> statement-breakpoint
CREATE INDEX `catalog_entitlements_name` ON `catalog_entitlements` (`tenant_id`,lower("display_name"));
--> statement-breakpoint
ALTER TABLE `tenants` ADD `role_validation` text DEFAULT 'lenient' NOT NULL;
--> statement-breakpoint
ALTER TABLE `users` ADD `role_values` text DEFAULT '[]' NOT NULL;
--> statement-breakpoint
-- A NOT NULL column with a default can be added; the guard inserts an explicit NULL into it.
ALTER TABLE `write_guard` ADD `roles_known` integer DEFAULT 1 NOT NULL;
--> statement-breakpoint
-- Existing users: roles[].value (string values) then userType, as storage/users.ts writes them.
UPDATE `users` SET `role_values` = (
	SELECT coalesce(json_group_array(`v`), '[]') FROM (
		SELECT DISTINCT `v` FROM (
			SELECT json_extract(`r`.`value`, '$.value') AS `v` FROM json_each(`users`.`doc`, '$.roles') AS `r`
			UNION ALL
			SELECT json_extract(`users`.`doc`, '$.userType')
		) WHERE typeof(`v`) = 'text' AND `v` <> ''
	)
) WHERE json_extract(`doc`, '$.roles') IS NOT NULL OR json_extract(`doc`, '$.userType') IS NOT NULL;
