-- Setup links can be revoked: by the operator (DELETE /admin/tenants/{id}/setup-links) or by
-- issuing a newer link. A tenant has at most one live link (unused and not revoked).
ALTER TABLE `setup_links` ADD `revoked_at` text;
--> statement-breakpoint
-- Existing databases may hold several live links per tenant (one per creation and per POST):
-- keep each tenant's newest, revoke the others, so the unique index below can be built.
UPDATE `setup_links` SET `revoked_at` = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE `used_at` IS NULL AND `revoked_at` IS NULL AND EXISTS (
  SELECT 1 FROM `setup_links` AS `newer`
  WHERE `newer`.`tenant_id` = `setup_links`.`tenant_id` AND `newer`.`used_at` IS NULL
    AND (`newer`.`created_at` > `setup_links`.`created_at`
      OR (`newer`.`created_at` = `setup_links`.`created_at` AND `newer`.`code_hash` > `setup_links`.`code_hash`))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `setup_links_one_live` ON `setup_links` (`tenant_id`) WHERE `used_at` IS NULL AND `revoked_at` IS NULL;
