CREATE TABLE `group_seq_blocks` (
	`tenant_id` text NOT NULL,
	`block` integer NOT NULL,
	`live` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `block`)
);
