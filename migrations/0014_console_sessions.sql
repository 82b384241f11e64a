-- The tenant admin console (issue 14). Sign-in links and sessions store only the SHA-256 of
-- their secret. A link is single-use (used_at set by the sign-in that claims it); a session
-- slides: expires_at moves 8 hours ahead as it is used. Revocation deletes the tenant's rows.
CREATE TABLE `console_links` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `console_links_tenant` ON `console_links` (`tenant_id`);
--> statement-breakpoint
CREATE TABLE `console_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`created_at` text NOT NULL,
	`last_seen_at` text NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `console_sessions_tenant` ON `console_sessions` (`tenant_id`);
--> statement-breakpoint
-- The console's "failures only" log filter walks this partial index instead of every success.
CREATE INDEX `request_log_tenant_failures` ON `request_log` (`tenant_id`,`seq`) WHERE `status` >= 400;
