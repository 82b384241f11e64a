-- Retention (src/maintenance/retention.ts) deletes the oldest rows of events and request_log
-- across all tenants by their timestamp, in bounded batches: each batch is a range of this
-- index (at most 5,000 entries read), never a scan of the table.
CREATE INDEX IF NOT EXISTS `events_at` ON `events` (`at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `request_log_at` ON `request_log` (`at`);
