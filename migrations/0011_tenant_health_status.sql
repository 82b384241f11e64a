-- The health status last announced by a tenant.provisioning_failing / _recovered event
-- (src/webhooks/health-events.ts). NULL: never failing.
ALTER TABLE `tenants` ADD `health_status` text;
