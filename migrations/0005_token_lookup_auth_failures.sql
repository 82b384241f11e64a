-- Token lookups that miss KV go to D1 (tenants_token_hash, unique since 0000_init). The token a
-- rotation replaced is kept so a refusal can say "rotated" rather than "unknown".
ALTER TABLE `tenants` ADD `previous_token_hash` text;
--> statement-breakpoint
CREATE INDEX `tenants_previous_token_hash` ON `tenants` (`previous_token_hash`);
--> statement-breakpoint
-- Failed authentications per tenant in the URL: aggregates only, never a token or its hash.
CREATE TABLE `auth_failures` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`count` integer NOT NULL,
	`first_at` text NOT NULL,
	`last_at` text NOT NULL,
	`last_reason` text NOT NULL,
	`last_user_agent` text
);
