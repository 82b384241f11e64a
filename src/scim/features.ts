/** What this server implements, advertised in /ServiceProviderConfig. Keep it true. */
export const MAX_RESULTS = 1000;
export const DEFAULT_COUNT = 100;

export const SCIM_FEATURES = {
  patch: true,
  bulk: false,
  filter: { supported: true, maxResults: MAX_RESULTS },
  changePassword: false,
  sort: true,
  etag: true,
  cursorPagination: true,
} as const;
