/** The operator token the workerd tests use (bound as ADMIN_TOKEN by vitest.config.ts). */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
