/**
 * At most 1,000 values per multi-valued attribute of a user (issue 9, item 5), on POST, PUT and
 * as the result of a PATCH: 400 invalidValue past it, and nothing changes.
 */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import { PATCH_OP, USER } from "./support/urns";

const emails = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: `u${from + i}@example.com`, type: "work" }));

interface UserJson {
  id: string;
  emails?: unknown[];
  meta: { version: string };
}

async function userWith(tenant: TestTenant, fields: Record<string, unknown>): Promise<UserJson> {
  const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: `u-${crypto.randomUUID()}`, ...fields } });
  const body = await bodyOf<UserJson>(res);
  expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(201);
  return body;
}

async function unchanged(tenant: TestTenant, user: UserJson, events: number): Promise<void> {
  const now = await bodyOf<UserJson>(await scim(tenant, `/Users/${user.id}`));
  expect(now.meta.version).toBe(user.meta.version);
  expect(now.emails?.length).toBe(user.emails?.length);
  expect(await eventCount(tenant)).toBe(events);
}

async function eventCount(tenant: TestTenant): Promise<number> {
  return (await (await admin(`/tenants/${tenant.id}/events?limit=1000`)).json<{ events: unknown[] }>()).events.length;
}

describe("1,000 values per multi-valued attribute", () => {
  it("POST: 1,000 emails are stored, 1,001 get 400 invalidValue", async () => {
    const tenant = await createTenant();
    const user = await userWith(tenant, { emails: emails(1000) });
    expect(user.emails).toHaveLength(1000);
    const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "too-many", emails: emails(1001) } });
    const error = await expectScimError(res, 400, "invalidValue");
    expect(error.detail).toContain("at most 1000 values");
    expect((await bodyOf<{ totalResults: number }>(await scim(tenant, "/Users?count=0"))).totalResults).toBe(1);
  });

  it("PUT: 1,001 phoneNumbers get 400 invalidValue and the user is unchanged", async () => {
    const tenant = await createTenant();
    const user = await userWith(tenant, { emails: emails(3) });
    const events = await eventCount(tenant);
    const phoneNumbers = Array.from({ length: 1001 }, (_, i) => ({ value: `+1 555 ${i}` }));
    const res = await scim(tenant, `/Users/${user.id}`, { method: "PUT", json: { schemas: [USER], userName: "renamed", phoneNumbers } });
    await expectScimError(res, 400, "invalidValue");
    await unchanged(tenant, user, events);
  });

  it("PATCH: an add that takes emails past 1,000 gets 400 invalidValue; re-adding present values is still a no-op", async () => {
    const tenant = await createTenant();
    const user = await userWith(tenant, { emails: emails(999) });
    const events = await eventCount(tenant);
    const patch = (...ops: unknown[]) => scim(tenant, `/Users/${user.id}`, { method: "PATCH", json: { schemas: [PATCH_OP], Operations: ops } });

    const twoMore = await patch({ op: "add", path: "emails", value: emails(2, 5000) });
    await expectScimError(twoMore, 400, "invalidValue");
    // Two ops of 600 each: the first passes the cap, so the request fails there.
    await expectScimError(await patch({ op: "add", path: "emails", value: emails(600, 6000) }, { op: "add", path: "emails", value: emails(600, 7000) }), 400, "invalidValue");
    // Entra creating an element through a filter counts too.
    const viaFilter = await patch({ op: "add", path: "emails", value: emails(1, 8000) }, { op: "add", path: 'emails[type eq "other"].value', value: "x@example.com" });
    await expectScimError(viaFilter, 400, "invalidValue");
    await unchanged(tenant, user, events);

    // Values already there (in another case) add nothing, so the cap is not reached.
    const again = await patch({ op: "add", path: "emails", value: emails(999).map((e) => ({ value: e.value.toUpperCase() })) });
    expect(again.status).toBe(200);
    await unchanged(tenant, user, events);
    const last = await patch({ op: "add", path: "emails", value: emails(1, 9000) });
    expect(last.status).toBe(200);
    expect((await bodyOf<UserJson>(last)).emails).toHaveLength(1000);
  });
});
