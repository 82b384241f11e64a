/**
 * A list page of large documents stays under D1's 50 MB result limit (../shared/PRODUCTION-LIMITS.md),
 * which local D1 does not enforce and the counting env does (support/d1-limits.ts). Documents
 * up to 16 kB come inline with the page (one round trip, as before); larger ones are read by
 * id afterwards, at most 8 MiB per statement, and the page is streamed user by user.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DOC_BYTES_PER_READ } from "../src/routes/scim/user-list-body";
import { MAX_DOCUMENT_BYTES } from "../src/storage/document-size";
import { countingEnv, send } from "./support/counting-env";
import { MAX_RESULT_BYTES } from "./support/d1-limits";
import { createTenant } from "./support/http";
import { seedUsers } from "./support/seed";

const counting = countingEnv(env);
const USERS = 64;
const CERTIFICATE_CHARS = 900_000;

describe("a list page of large documents", () => {
  it(`lists ${USERS} users of ~0.9 MB each (${(USERS * CERTIFICATE_CHARS) / 1e6} MB, more than one D1 result may hold) completely, each statement under 50 MB`, async () => {
    const tenant = await createTenant();
    const seeded = await seedUsers(env, tenant.id, { users: USERS });
    // Large but valid documents (under the 1 MiB cap): one long certificate each.
    await env.DB.prepare("UPDATE users SET doc = json_set(doc, '$.x509Certificates', json_array(json_object('value', hex(zeroblob(?))))) WHERE tenant_id = ?")
      .bind(CERTIFICATE_CHARS / 2, tenant.id)
      .run();
    expect(USERS * CERTIFICATE_CHARS).toBeGreaterThan(MAX_RESULT_BYTES);

    for (const path of ["/Users?count=100", "/Users?count=100&cursor=", `/Users?filter=${encodeURIComponent('userName sw "user"')}&count=1000`]) {
      const sent = await send(counting, new Request(`${tenant.baseUrl}${path}`, { headers: { Authorization: `Bearer ${tenant.token}` } }));
      const text = await sent.response.text();
      expect(sent.response.status, text.slice(0, 300)).toBe(200);
      expect(counting.violations, path).toEqual([]);
      const list = JSON.parse(text) as { totalResults: number; itemsPerPage: number; Resources: { id: string; x509Certificates?: { value: string }[] }[] };
      expect(list.totalResults, path).toBe(USERS);
      expect(list.itemsPerPage, path).toBe(USERS);
      expect(list.Resources.map((u) => u.id), path).toEqual(Array.from({ length: USERS }, (_, i) => seeded.userId(i + 1)));
      expect(list.Resources.every((u) => u.x509Certificates?.[0]?.value.length === CERTIFICATE_CHARS), path).toBe(true);
      // The page (documents left out), then the documents, 8 MiB per statement: at least 8 of 1 MiB each.
      // (The once-a-minute last-used stamp runs in waitUntil: not the list's.)
      const trips = counting.roundTrips.filter((t) => t.phase !== "background").length;
      expect(trips, path).toBeGreaterThan(1);
      expect(trips, path).toBeLessThanOrEqual(1 + Math.ceil(USERS / Math.floor(DOC_BYTES_PER_READ / MAX_DOCUMENT_BYTES)));
    }
  });
});
