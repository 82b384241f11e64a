CREATE TABLE `app_accounts` (
	`tenant_id` text NOT NULL,
	`account_key` text NOT NULL,
	`user_name_key` text,
	`email_key` text,
	`user_id` text,
	`created_at` text NOT NULL,
	`linked_at` text,
	PRIMARY KEY(`tenant_id`, `account_key`)
);
--> statement-breakpoint
CREATE INDEX `app_accounts_user_name` ON `app_accounts` (`tenant_id`,`user_name_key`);--> statement-breakpoint
CREATE INDEX `app_accounts_email` ON `app_accounts` (`tenant_id`,`email_key`);--> statement-breakpoint
CREATE INDEX `app_accounts_user` ON `app_accounts` (`tenant_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `app_groups` (
	`tenant_id` text NOT NULL,
	`group_key` text NOT NULL,
	`display_name_key` text NOT NULL,
	`group_id` text,
	`created_at` text NOT NULL,
	`linked_at` text,
	PRIMARY KEY(`tenant_id`, `group_key`)
);
--> statement-breakpoint
CREATE INDEX `app_groups_display_name` ON `app_groups` (`tenant_id`,`display_name_key`);--> statement-breakpoint
CREATE INDEX `app_groups_group` ON `app_groups` (`tenant_id`,`group_id`);--> statement-breakpoint
CREATE TABLE `events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`type` text NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`at` text NOT NULL,
	`data` text
);
--> statement-breakpoint
CREATE INDEX `events_tenant_seq` ON `events` (`tenant_id`,`seq`);--> statement-breakpoint
CREATE TABLE `group_members` (
	`tenant_id` text NOT NULL,
	`group_id` text NOT NULL,
	`member_id` text NOT NULL,
	`member_type` text DEFAULT 'User' NOT NULL,
	PRIMARY KEY(`tenant_id`, `group_id`, `member_id`)
);
--> statement-breakpoint
CREATE INDEX `group_members_member` ON `group_members` (`tenant_id`,`member_id`,`group_id`);--> statement-breakpoint
CREATE TABLE `groups` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`display_name` text NOT NULL,
	`display_name_key` text NOT NULL,
	`external_id` text,
	`role` text,
	`domains` text DEFAULT '[]' NOT NULL,
	`member_count` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`last_modified` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`doc` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `groups_tenant_id` ON `groups` (`tenant_id`,`id`);--> statement-breakpoint
CREATE INDEX `groups_tenant_seq` ON `groups` (`tenant_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `groups_tenant_display_name` ON `groups` (`tenant_id`,`display_name_key`);--> statement-breakpoint
CREATE INDEX `groups_tenant_external_id` ON `groups` (`tenant_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `groups_tenant_last_modified` ON `groups` (`tenant_id`,`last_modified`);--> statement-breakpoint
CREATE TABLE `request_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`at` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`status` integer NOT NULL,
	`scim_type` text,
	`detail` text,
	`user_agent` text,
	`duration_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `request_log_tenant_seq` ON `request_log` (`tenant_id`,`seq`);--> statement-breakpoint
CREATE TABLE `setup_links` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `setup_links_tenant` ON `setup_links` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`provider` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`user_sync` integer DEFAULT true NOT NULL,
	`group_sync` integer DEFAULT true NOT NULL,
	`default_role` text,
	`domain_restrictions` text DEFAULT '[]' NOT NULL,
	`link_existing_users` integer DEFAULT true NOT NULL,
	`token_hash` text,
	`token_prefix` text,
	`token_last_four` text,
	`token_created_at` text,
	`token_last_used_at` text,
	`user_count` integer DEFAULT 0 NOT NULL,
	`active_user_count` integer DEFAULT 0 NOT NULL,
	`group_count` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tenants_token_hash` ON `tenants` (`token_hash`);--> statement-breakpoint
CREATE TABLE `user_emails` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`value_key` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `value_key`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `user_emails_user` ON `user_emails` (`tenant_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`user_name` text NOT NULL,
	`user_name_key` text NOT NULL,
	`external_id` text,
	`active` integer DEFAULT true NOT NULL,
	`created_at` text NOT NULL,
	`last_modified` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`doc` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_tenant_id` ON `users` (`tenant_id`,`id`);--> statement-breakpoint
CREATE INDEX `users_tenant_seq` ON `users` (`tenant_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_tenant_user_name` ON `users` (`tenant_id`,`user_name_key`);--> statement-breakpoint
CREATE INDEX `users_tenant_external_id` ON `users` (`tenant_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `users_tenant_last_modified` ON `users` (`tenant_id`,`last_modified`);--> statement-breakpoint
CREATE TABLE `write_guard` (
	`token_current` integer NOT NULL,
	`resource_current` integer NOT NULL,
	`no_account_conflict` integer NOT NULL,
	`members_exist` integer NOT NULL
);
