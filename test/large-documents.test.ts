/**
 * A list page of large documents stays under D1's 50 MB result limit (../shared/PRODUCTION-LIMITS.md),
 * which local D1 does not enforce and the counting env does (support/d1-limits.ts). Documents
 * up to 16 kB come inline with the page (one round trip, as before); larger ones are read by
 * id afterwards, at most 8 MiB per statement, and the page is streamed user by user. The
 * operator's directory read cuts its page to 8 MiB of documents instead (it pages by cursor).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DOC_BYTES_PER_READ } from "../src/routes/scim/user-list-body";
import { DIRECTORY_PAGE_DOC_BYTES } from "../src/storage/directory";
import { MAX_DOCUMENT_BYTES } from "../src/storage/document-size";
import { countingEnv, send } from "./support/counting-env";
import { MAX_RESULT_BYTES } from "./support/d1-limits";
import { TEST_ADMIN_TOKEN } from "./support/admin-token";
import { createTenant, ORIGIN } from "./support/http";
import { seedUsers } from "./support/seed";
import { shardOf } from "./support/shards";

const counting = countingEnv(env);
const USERS = 64;
const CERTIFICATE_CHARS = 900_000;

/** A tenant of USERS seeded users, each with a certificate of CERTIFICATE_CHARS characters. */
async function largeUsers() {
  const tenant = await createTenant();
  const seeded = await seedUsers(env, tenant.id, { users: USERS });
  // Large but valid documents (under the 1 MiB cap): one long certificate each.
  await (await shardOf(tenant.id)).prepare("UPDATE users SET doc = json_set(doc, '$.x509Certificates', json_array(json_object('value', hex(zeroblob(?))))) WHERE tenant_id = ?")
    .bind(CERTIFICATE_CHARS / 2, tenant.id)
    .run();
  return { tenant, seeded };
}

describe("a list page of large documents", () => {
  it("the operator's directory read (limit=1000) cuts a page of large documents to 8 MiB; following next reads every user once", async () => {
    const { tenant, seeded } = await largeUsers();
    const seen: string[] = [];
    let after = 0;
    for (let pages = 0; pages < USERS && seen.length < USERS; pages++) {
      const request = new Request(`${ORIGIN}/admin/tenants/${tenant.id}/users?limit=1000&after=${after}`, { headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      const sent = await send(counting, request);
      const text = await sent.response.text();
      expect(sent.response.status, text.slice(0, 300)).toBe(200);
      const page = JSON.parse(text) as { users: { id: string; doc: { x509Certificates: { value: string }[] } }[]; next: number };
      expect(page.users.length, `after ${after}`).toBeGreaterThan(0);
      expect(page.users.length * CERTIFICATE_CHARS, `after ${after}`).toBeLessThanOrEqual(DIRECTORY_PAGE_DOC_BYTES + MAX_DOCUMENT_BYTES);
      expect(page.users.every((u) => u.doc.x509Certificates[0]?.value.length === CERTIFICATE_CHARS)).toBe(true);
      seen.push(...page.users.map((u) => u.id));
      after = page.next;
    }
    expect(seen).toEqual(Array.from({ length: USERS }, (_, i) => seeded.userId(i + 1)));
  });

  it(`lists ${USERS} users of ~0.9 MB each (${(USERS * CERTIFICATE_CHARS) / 1e6} MB, more than one D1 result may hold) completely, each statement under 50 MB`, async () => {
    const { tenant, seeded } = await largeUsers();
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
