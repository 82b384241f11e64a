/** Standard Webhooks signatures, checked with the `standardwebhooks` package receivers use (issue 11 item 2). */
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signedHeaders } from "../../src/webhooks/signing";

const BODY = JSON.stringify({ id: "evt_1", type: "user.created", tenantId: "t", occurredAt: "2026-12-01T00:00:00.000Z", seq: 1, data: {} });

describe("webhook signatures", () => {
  it("verifies with standardwebhooks under the endpoint's secret", async () => {
    const secret = newWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = await signedHeaders([secret], "evt_1", now, BODY);
    expect(headers["webhook-id"]).toBe("evt_1");
    expect(headers["webhook-timestamp"]).toBe(String(now));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it("fails verification under another secret or for another body", async () => {
    const secret = newWebhookSecret();
    const headers = await signedHeaders([secret], "evt_1", Math.floor(Date.now() / 1000), BODY);
    expect(() => new Webhook(newWebhookSecret()).verify(BODY, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(BODY.replace("user.created", "user.deleted"), headers)).toThrow(WebhookVerificationError);
  });

  it("signs with both secrets during a rotation, so a receiver holding either verifies", async () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const headers = await signedHeaders([current, previous], "evt_2", Math.floor(Date.now() / 1000), BODY);
    expect(headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(() => new Webhook(current).verify(BODY, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(BODY, headers)).not.toThrow();
  });
});
