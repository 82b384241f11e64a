/**
 * Concurrent PATCHes of one user (issue 9, item 6): a PATCH whose optimistic first attempt
 * loses a race is queued behind the user's other PATCHes in the tenant's Durable Object
 * (src/durable/user-patch.ts), so none answers 409 and every change is kept.
 */
import { describe, expect, it } from "vitest";
import { bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import { ENTERPRISE, PATCH_OP, USER } from "./support/urns";

interface UserJson {
  id: string;
  emails?: { value: string; type?: string }[];
  meta: { version: string };
  [key: string]: unknown;
}

async function newUser(tenant: TestTenant): Promise<UserJson> {
  const res = await scim(tenant, "/Users", {
    method: "POST",
    json: { schemas: [USER], userName: `busy-${crypto.randomUUID()}@example.com`, emails: [{ value: "first@corp.example", type: "work" }] },
  });
  const body = await bodyOf<UserJson>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

function patch(tenant: TestTenant, id: string, Operations: unknown[], headers: Record<string, string> = {}) {
  return scim(tenant, `/Users/${id}`, { method: "PATCH", headers, json: { schemas: [PATCH_OP], Operations } });
}

/** Twelve attributes no two PATCHes share, so each change must survive the others. */
const ATTRIBUTES: [string, string][] = [
  ["displayName", "Busy Bee"],
  ["nickName", "bee"],
  ["title", "Engineer"],
  ["userType", "Employee"],
  ["preferredLanguage", "de-DE"],
  ["locale", "de-DE"],
  ["timezone", "Europe/Berlin"],
  ["profileUrl", "https://example.com/bee"],
  ["name.givenName", "Busy"],
  ["name.familyName", "Bee"],
  [`${ENTERPRISE}:department`, "R&D"],
  [`${ENTERPRISE}:costCenter`, "4711"],
];

describe("concurrent PATCHes of one user", () => {
  it("24 at once (12 adding an email each, 12 setting a different attribute each) all answer 200 and all changes are kept", async () => {
    const tenant = await createTenant();
    const user = await newUser(tenant);
    const emails = Array.from({ length: 12 }, (_, i) => `extra${i}@corp.example`);
    const requests = [
      ...emails.map((value) => patch(tenant, user.id, [{ op: "add", path: "emails", value: [{ value, type: "other" }] }])),
      ...ATTRIBUTES.map(([path, value]) => patch(tenant, user.id, [{ op: "replace", path, value }])),
    ];
    const responses = await Promise.all(requests);
    const statuses = await Promise.all(responses.map(async (r) => `${r.status}${r.status === 200 ? "" : ` ${await r.text()}`}`));
    expect(statuses, "no PATCH may answer 409").toEqual(statuses.map(() => "200"));

    const stored = await bodyOf<UserJson>(await scim(tenant, `/Users/${user.id}`));
    expect((stored.emails ?? []).map((e) => e.value).sort()).toEqual(["first@corp.example", ...emails].sort());
    const enterprise = stored[ENTERPRISE] as Record<string, unknown> | undefined;
    const name = stored.name as Record<string, unknown> | undefined;
    for (const [path, value] of ATTRIBUTES) {
      const actual = path.startsWith(ENTERPRISE)
        ? enterprise?.[path.slice(ENTERPRISE.length + 1)]
        : path.startsWith("name.")
          ? name?.[path.slice(5)]
          : stored[path];
      expect(actual, `${path} in ${JSON.stringify(stored)}`).toBe(value);
    }
    expect(stored.meta.version, "one version per PATCH").toBe(`W/"${1 + requests.length}"`);
  });

  it("PATCHes of two users at once all succeed for both", async () => {
    const tenant = await createTenant();
    const [a, b] = [await newUser(tenant), await newUser(tenant)];
    const add = (id: string, i: number) => patch(tenant, id, [{ op: "add", path: "emails", value: [{ value: `${id.slice(0, 8)}-${i}@corp.example` }] }]);
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => [add(a.id, i), add(b.id, i)]).flat());
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    for (const u of [a, b]) {
      const stored = await bodyOf<UserJson>(await scim(tenant, `/Users/${u.id}`));
      expect(stored.emails?.length, JSON.stringify(stored)).toBe(11);
    }
  });

});
