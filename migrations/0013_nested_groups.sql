-- Nested groups (issue 13). Two more write guards: a membership that would make a group its
-- own ancestor, and one that would pass the nesting bound (src/storage/group-nesting.ts).
-- ADD COLUMN with a default keeps existing rows valid; the guard inserts NULL explicitly,
-- which a NOT NULL column refuses whatever its default.
ALTER TABLE write_guard ADD COLUMN no_cycle integer NOT NULL DEFAULT 1;
--> statement-breakpoint
ALTER TABLE write_guard ADD COLUMN nesting_bounded integer NOT NULL DEFAULT 1;
--> statement-breakpoint
-- A group's subgroups without walking its user members: a 100,000-member group with two
-- subgroups reads two index entries. Existing rows are all users, so nothing to backfill.
CREATE INDEX group_members_subgroups ON group_members (tenant_id, group_id, member_id) WHERE member_type = 'Group';
--> statement-breakpoint
-- The `display` a client sent with a member (issue 13 item 4): shown for a user member that has
-- no displayName. Existing memberships have none; they show the user's userName as before.
ALTER TABLE group_members ADD COLUMN display text;
