/** What this server implements, advertised in /ServiceProviderConfig. Keep it true. */
export const MAX_RESULTS = 1000;
export const DEFAULT_COUNT = 100;
/**
 * RFC 7644 §3.7.4 /Bulk limits. 100 operations: each costs up to about three D1 round trips
 * (a user PATCH that lost a race: read, write, then the Durable Object's), so a request
 * stays far under D1's 1,000 queries and the 1,000 subrequests per invocation. 1 MiB: the
 * cap of every other body, so a Bulk request carries no more than one PUT could.
 */
export const MAX_BULK_OPERATIONS = 100;
export const MAX_BULK_PAYLOAD_BYTES = 1024 * 1024;

export const SCIM_FEATURES = {
  patch: true,
  bulk: { supported: true, maxOperations: MAX_BULK_OPERATIONS, maxPayloadSize: MAX_BULK_PAYLOAD_BYTES },
  filter: { supported: true, maxResults: MAX_RESULTS },
  changePassword: false,
  sort: true,
  etag: true,
  cursorPagination: true,
} as const;
