/**
 * The PUBLIC_URL the workerd tests run with (bound by vitest.config.ts), as a deployment sets
 * it; test/support/http.ts sends its requests there.
 */
export const TEST_PUBLIC_URL = "https://scim.test";
