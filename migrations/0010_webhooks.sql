-- Signed webhooks (src/webhooks/, src/storage/webhooks.ts): the operator's endpoints, one row per
-- (endpoint, event) delivery, and the events' outbox mark.
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text,
	`tenant_ids` text,
	`description` text,
	`enabled` integer DEFAULT true NOT NULL,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_expires_at` text,
	`failing_since` text,
	`disabled_reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_seq` integer,
	`event_type` text NOT NULL,
	`tenant_id` text,
	`payload` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`last_attempt_at` text,
	`next_attempt_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_endpoint_event` ON `webhook_deliveries` (`endpoint_id`,`event_id`);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint_id` ON `webhook_deliveries` (`endpoint_id`,`id`);
--> statement-breakpoint
-- When the event was handed to the webhook queue; NULL = not yet (the sweep picks it up after a minute).
ALTER TABLE `events` ADD `enqueued_at` text;
--> statement-breakpoint
-- Events from before webhooks existed are not sent.
UPDATE `events` SET `enqueued_at` = `at`;
--> statement-breakpoint
CREATE INDEX `events_unenqueued` ON `events` (`tenant_id`,`seq`) WHERE `enqueued_at` IS NULL;
--> statement-breakpoint
-- The sweep finds deliveries claimed but never sent (src/webhooks/sweep.ts).
CREATE INDEX `webhook_deliveries_pending` ON `webhook_deliveries` (`updated_at`) WHERE `status` = 'pending';
--> statement-breakpoint
-- Deliveries are kept as long as events (EVENT_RETENTION_DAYS); the sweep deletes older ones by this index.
CREATE INDEX `webhook_deliveries_created_at` ON `webhook_deliveries` (`created_at`);
