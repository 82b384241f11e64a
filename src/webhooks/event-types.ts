/**
 * The webhook event types and how the stored event feed maps onto them. The feed keeps its own
 * names (`GET /admin/tenants/{id}/events` is unchanged); a webhook says `user.updated` for both
 * a PUT and a PATCH, as receivers care about the change, not the verb.
 */
export const WEBHOOK_EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deactivated",
  "user.reactivated",
  "user.deleted",
  // Issue 12: a user's effective roles changed (its own roles, a membership, a group's role).
  "user.roles_changed",
  "group.created",
  "group.updated",
  "group.members_changed",
  "group.deleted",
  "tenant.enabled",
  "tenant.disabled",
  "tenant.token_rotated",
  "tenant.provisioning_failing",
  "tenant.provisioning_recovered",
  "webhook.test",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const FROM_FEED: Record<string, WebhookEventType> = {
  "user.replaced": "user.updated",
  "user.patched": "user.updated",
};

/**
 * The webhook type of a stored event; unknown feed types pass through unchanged. A PUT or PATCH
 * that turns `active` off is `user.deactivated` (Okta's deactivation, Entra's soft delete), one
 * that turns it back on `user.reactivated`: receivers act on those, not on any edit. Events
 * written before `wasActive` was recorded are `user.updated`.
 */
export function webhookType(feedType: string, data?: Record<string, unknown> | null): string {
  const mapped = FROM_FEED[feedType] ?? feedType;
  if (mapped === "user.updated" && data && typeof data.wasActive === "boolean" && data.active !== data.wasActive) {
    return data.active ? "user.reactivated" : "user.deactivated";
  }
  return mapped;
}
