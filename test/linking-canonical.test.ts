/**
 * What a SCIM create links to (issue 10 §1): only the userName or the primary email (the work
 * email when none is primary), compared NFC + ASCII-lower-case, never through Unicode case or
 * compatibility folding, and only when exactly one account (group) is a candidate.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingEnv, send } from "./support/counting-env";
import { expectScimError } from "./support/expect-scim-error";
import { admin, bodyOf, createTenant, scim } from "./support/http";
import { GROUP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

type Email = { value: string; type?: string; primary?: boolean | string };

interface UserCase {
  name: string;
  accounts: Record<string, { userName?: string; email?: string }>;
  user: { userName: string; emails?: Email[] };
  /** The account the create links to, or null. */
  links: string | null;
  /** The create is answered 400 invalidValue, and nothing is linked. */
  refused?: true;
}

const CEO = { ceo: { email: "ceo@corp.example" } };

const USER_CASES: UserCase[] = [
  {
    name: "a secondary work email does not link (the primary one is another)",
    accounts: CEO,
    user: {
      userName: "mallory@corp.example",
      emails: [
        { value: "mallory@corp.example", type: "work", primary: true },
        { value: "CEO@corp.example", type: "work" },
      ],
    },
    links: null,
  },
  {
    name: "a home email does not link",
    accounts: CEO,
    user: { userName: "mallory", emails: [{ value: "ceo@corp.example", type: "home" }] },
    links: null,
  },
  {
    name: "an `other` email does not link",
    accounts: CEO,
    user: { userName: "mallory", emails: [{ value: "ceo@corp.example", type: "other" }] },
    links: null,
  },
  {
    name: "an email without a type or primary flag does not link",
    accounts: CEO,
    user: { userName: "mallory", emails: [{ value: "ceo@corp.example" }] },
    links: null,
  },
  {
    name: "a primary home email links",
    accounts: { pat: { email: "pat@corp.example" } },
    user: { userName: "pat.smith", emails: [{ value: "pat@corp.example", type: "home", primary: true }] },
    links: "pat",
  },
  {
    name: "Entra's string \"True\" marks the primary email",
    accounts: { pat: { email: "pat@corp.example" } },
    user: {
      userName: "pat.smith",
      emails: [
        { value: "pat@corp.example", type: "other", primary: "True" },
        { value: "pat.smith@corp.example", type: "work", primary: "False" },
      ],
    },
    links: "pat",
  },
  {
    name: "the work email links when no email is primary",
    accounts: { pat: { email: "pat@corp.example" } },
    user: {
      userName: "pat.smith",
      emails: [
        { value: "pat@home.example", type: "home" },
        { value: "pat@corp.example", type: "work" },
      ],
    },
    links: "pat",
  },
  {
    name: "the primary email wins over the work email: a non-primary work email does not link",
    accounts: { pat: { email: "pat@corp.example" } },
    user: {
      userName: "pat.smith",
      emails: [
        { value: "pat@corp.example", type: "work" },
        { value: "pat@home.example", type: "home", primary: true },
      ],
    },
    links: null,
  },
  {
    name: "two work emails and no primary: neither links",
    accounts: CEO,
    user: {
      userName: "mallory",
      emails: [
        { value: "mallory@corp.example", type: "work" },
        { value: "ceo@corp.example", type: "work" },
      ],
    },
    links: null,
  },
  {
    name: "ASCII case differences in the email link",
    accounts: { pat: { email: "Pat.Smith@Corp.Example" } },
    user: { userName: "pat", emails: [{ value: "pAT.smith@CORP.example", type: "work", primary: true }] },
    links: "pat",
  },
  {
    name: "ASCII case differences in the userName link",
    accounts: { pat: { userName: "PAT.SMITH" } },
    user: { userName: "pat.smith" },
    links: "pat",
  },
  {
    name: "the Kelvin sign (U+212A) is not a K: no link by email",
    accounts: { kate: { email: "kate@corp.example" } },
    user: { userName: "intruder", emails: [{ value: "\u212Aate@corp.example", type: "work", primary: true }] },
    links: null,
  },
  {
    name: "the Kelvin sign (U+212A) in a userName is refused (NFC would turn it into K)",
    accounts: { kate: { userName: "kate" } },
    user: { userName: "\u212Aate" },
    links: null,
    refused: true,
  },
  {
    name: "Turkish dotless ı is not i",
    accounts: { kiki: { userName: "kiki" } },
    user: { userName: "k\u0131k\u0131" },
    links: null,
  },
  {
    name: "Turkish dotted İ is not a capital of i with a combining dot",
    accounts: { ilgaz: { userName: "i\u0307lgaz" } },
    user: { userName: "\u0130lgaz" },
    links: null,
  },
  {
    name: "Turkish dotted İ is not I",
    accounts: { ilgaz: { userName: "ilgaz" } },
    user: { userName: "\u0130LGAZ" },
    links: null,
  },
  {
    name: "fullwidth ｋ is not k",
    accounts: { kate: { userName: "kate" } },
    user: { userName: "\uFF4Bate" },
    links: null,
  },
  {
    name: "fullwidth Ｋ is not K",
    accounts: { kate: { email: "kate@corp.example" } },
    user: { userName: "x", emails: [{ value: "\uFF2Bate@corp.example", type: "work", primary: true }] },
    links: null,
  },
  {
    name: "an NFD userName links to the NFC account",
    accounts: { jose: { userName: "Jos\u00e9" } },
    user: { userName: "Jose\u0301" },
    links: "jose",
  },
  {
    name: "an NFC userName links to an account registered in NFD",
    accounts: { jose: { userName: "Rene\u0301e" } },
    user: { userName: "Ren\u00e9e" },
    links: "jose",
  },
  {
    name: "a name with non-ASCII characters links only on an exact match (no case folding)",
    accounts: { jose: { userName: "Jos\u00e9" } },
    user: { userName: "jos\u00e9" },
    links: null,
  },
  {
    name: "userName and primary email naming two accounts: neither links",
    accounts: { byName: { userName: "pat" }, byEmail: { email: "pat@corp.example" } },
    user: { userName: "pat", emails: [{ value: "pat@corp.example", type: "work", primary: true }] },
    links: null,
  },
  {
    name: "two accounts with the same email: neither links",
    accounts: { one: { email: "pat@corp.example" }, two: { email: "PAT@corp.example" } },
    user: { userName: "pat.smith", emails: [{ value: "pat@corp.example", type: "work", primary: true }] },
    links: null,
  },
  {
    name: "two accounts with the same userName: neither links",
    accounts: { one: { userName: "pat" }, two: { userName: "Pat" } },
    user: { userName: "pat" },
    links: null,
  },
  {
    name: "one account matched by both userName and primary email links",
    accounts: { pat: { userName: "pat", email: "pat@corp.example" } },
    user: { userName: "pat", emails: [{ value: "pat@corp.example", type: "work", primary: true }] },
    links: "pat",
  },
];

async function accountLink(tenantId: string, key: string): Promise<string | null> {
  const res = await admin(`/tenants/${tenantId}/accounts/${key}`);
  return (await res.json<{ linkedUserId: string | null }>()).linkedUserId;
}

describe("which account a SCIM user create links to", () => {
  it.each(USER_CASES)("$name", async ({ accounts, user, links, refused }) => {
    const tenant = await createTenant();
    for (const [key, identity] of Object.entries(accounts)) {
      const res = await admin(`/tenants/${tenant.id}/accounts/${key}`, { method: "PUT", json: identity });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], ...user } });
    if (refused) {
      await expectScimError(res, 400, "invalidValue");
      for (const key of Object.keys(accounts)) expect(await accountLink(tenant.id, key), `account ${key}`).toBeNull();
      return;
    }
    const created = await bodyOf<{ id: string }>(res);
    expect(res.status, JSON.stringify(created)).toBe(201);
    for (const key of Object.keys(accounts)) {
      expect(await accountLink(tenant.id, key), `account ${key}`).toBe(key === links ? created.id : null);
    }
    const events = await (await admin(`/tenants/${tenant.id}/events`)).json<{ events: { type: string; data: { linkedAccount: string | null } }[] }>();
    expect(events.events[0]).toMatchObject({ type: "user.created", data: { linkedAccount: links } });
  });

  it("answers 409 when linking is off and two accounts are candidates (ambiguity is no way around the 409)", async () => {
    const tenant = await createTenant({ linkExistingUsers: false });
    await admin(`/tenants/${tenant.id}/accounts/one`, { method: "PUT", json: { email: "pat@corp.example" } });
    await admin(`/tenants/${tenant.id}/accounts/two`, { method: "PUT", json: { email: "pat@corp.example" } });
    const json = { schemas: [USER], userName: "pat", emails: [{ value: "pat@corp.example", type: "work", primary: true }] };
    await expectScimError(await scim(tenant, "/Users", { method: "POST", json }), 409, "uniqueness");
  });

  it("does not answer 409 for a secondary email that an account has, when linking is off", async () => {
    const tenant = await createTenant({ linkExistingUsers: false });
    await admin(`/tenants/${tenant.id}/accounts/ceo`, { method: "PUT", json: { email: "ceo@corp.example" } });
    const json = {
      schemas: [USER],
      userName: "mallory",
      emails: [
        { value: "mallory@corp.example", type: "work", primary: true },
        { value: "ceo@corp.example", type: "work" },
      ],
    };
    const res = await scim(tenant, "/Users", { method: "POST", json });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await accountLink(tenant.id, "ceo")).toBeNull();
  });
});

describe("the cost of looking for candidates", () => {
  it("reads the accounts the userName and primary email name, not every unlinked account of the tenant", async () => {
    const tenant = await createTenant();
    const seeded = 500;
    await (await shardOf(tenant.id)).prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${seeded})
       INSERT INTO app_accounts (tenant_id, account_key, user_name_key, email_key, created_at)
       SELECT ?, 'seed-' || i, 'seed' || i, 'seed' || i || '@corp.example', '2026-01-01T00:00:00Z' FROM n`,
    ).bind(tenant.id).run();
    const counting = countingEnv(env);
    const json = { schemas: [USER], userName: "seed7", emails: [{ value: "seed7@corp.example", type: "work", primary: true }] };
    const sent = await send(
      counting,
      new Request(`${tenant.baseUrl}/Users`, {
        method: "POST",
        headers: { Authorization: `Bearer ${tenant.token}`, "Content-Type": "application/scim+json" },
        body: JSON.stringify(json),
      }),
    );
    expect(sent.response.status, await sent.response.clone().text()).toBe(201);
    const accountReads = sent.statements.filter((s) => s.sql.includes("app_accounts")).map((s) => ({ sql: s.sql.slice(0, 120), rowsRead: s.rowsRead }));
    const total = accountReads.reduce((sum, s) => sum + (s.rowsRead ?? 0), 0);
    expect(total, JSON.stringify(accountReads)).toBeLessThan(50);
    expect(await accountLink(tenant.id, "seed-7")).not.toBeNull();
  });
});

describe("what the operator registers", () => {
  it.each([
    ["an account userName", "accounts/k", { userName: "\u212Aate" }],
    ["an app group displayName", "app-groups/k", { displayName: "\u212Aitchen" }],
    ["an account userName (a lone surrogate)", "accounts/k", { userName: "kate\ud800" }],
    ["an app group displayName (a lone surrogate)", "app-groups/k", { displayName: "\udc00Kitchen" }],
  ])("refuses the Kelvin sign or a lone surrogate in %s with 400 invalidValue (no SCIM value could link to it)", async (_label, path, json) => {
    const tenant = await createTenant();
    await expectScimError(await admin(`/tenants/${tenant.id}/${path}`, { method: "PUT", json }), 400, "invalidValue");
    const [kind] = path.split("/");
    expect((await admin(`/tenants/${tenant.id}/${kind}/k`)).status).toBe(404);
  });

  it("stores an ASCII key lower-cased and a non-ASCII one exactly (NFC): the SCIM side computes the same", async () => {
    const tenant = await createTenant();
    await admin(`/tenants/${tenant.id}/accounts/a`, { method: "PUT", json: { userName: "Zo\u00eb", email: "Zoe@Corp.Example" } });
    const row = await (await shardOf(tenant.id)).prepare("SELECT user_name_key, email_key FROM app_accounts WHERE tenant_id = ?").bind(tenant.id).first();
    expect(row).toEqual({ user_name_key: "Zo\u00eb", email_key: "zoe@corp.example" });
  });
});

interface GroupCase {
  name: string;
  appGroups: Record<string, string>;
  displayName: string;
  links: string | null;
  refused?: true;
}

const GROUP_CASES: GroupCase[] = [
  { name: "ASCII case differences link", appGroups: { eng: "Engineering" }, displayName: "ENGINEERING", links: "eng" },
  { name: "the Kelvin sign is refused (NFC would turn it into K)", appGroups: { kit: "Kitchen" }, displayName: "\u212Aitchen", links: null, refused: true },
  { name: "Turkish dotless ı is not i", appGroups: { it: "it" }, displayName: "\u0131t", links: null },
  { name: "Turkish dotted İ is not I", appGroups: { it: "IT" }, displayName: "\u0130T", links: null },
  { name: "fullwidth letters are not ASCII", appGroups: { ops: "Ops" }, displayName: "\uFF2Fps", links: null },
  { name: "NFD links to NFC", appGroups: { cafe: "Caf\u00e9" }, displayName: "Cafe\u0301", links: "cafe" },
  { name: "non-ASCII names are not case-folded", appGroups: { cafe: "Caf\u00e9" }, displayName: "CAF\u00c9", links: null },
  { name: "two app groups with the same name: neither links", appGroups: { a: "Sales", b: "sales" }, displayName: "Sales", links: null },
];

describe("which app group a SCIM group create links to", () => {
  it.each(GROUP_CASES)("$name", async ({ appGroups, displayName, links, refused }) => {
    const tenant = await createTenant();
    for (const [key, name] of Object.entries(appGroups)) {
      const res = await admin(`/tenants/${tenant.id}/app-groups/${key}`, { method: "PUT", json: { displayName: name } });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName } });
    if (refused) {
      await expectScimError(res, 400, "invalidValue");
      for (const key of Object.keys(appGroups)) {
        const view = await (await admin(`/tenants/${tenant.id}/app-groups/${key}`)).json<{ linkedGroupId: string | null }>();
        expect(view.linkedGroupId, `app group ${key}`).toBeNull();
      }
      return;
    }
    const created = await bodyOf<{ id: string }>(res);
    expect(res.status, JSON.stringify(created)).toBe(201);
    for (const key of Object.keys(appGroups)) {
      const view = await (await admin(`/tenants/${tenant.id}/app-groups/${key}`)).json<{ linkedGroupId: string | null }>();
      expect(view.linkedGroupId, `app group ${key}`).toBe(key === links ? created.id : null);
    }
  });
});
