/**
 * The webhook event types and how the stored event feed maps onto them. The feed keeps its own
 * names (`GET /admin/tenants/{id}/events` is unchanged); a webhook says `user.updated` for both
 * a PUT and a PATCH, as receivers care about the change, not the verb.
 */
export const WEBHOOK_EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deleted",
  "group.created",
  "group.updated",
  "group.members_changed",
  "group.deleted",
  "webhook.test",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const FROM_FEED: Record<string, WebhookEventType> = {
  "user.replaced": "user.updated",
  "user.patched": "user.updated",
};

/** The webhook type of a stored event; unknown feed types pass through unchanged. */
export function webhookType(feedType: string): string {
  return FROM_FEED[feedType] ?? feedType;
}
