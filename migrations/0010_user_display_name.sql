-- A user's displayName beside its document: a group's member page reads it per member
-- instead of parsing each member's document (src/storage/group-members.ts).
ALTER TABLE users ADD COLUMN display_name text;
--> statement-breakpoint
UPDATE users SET display_name = substr(json_extract(doc, '$.displayName'), 1, 1024) WHERE json_extract(doc, '$.displayName') IS NOT NULL;
