/**
 * The tenant console's session rules over HTTP, as a browser sends them: the single-use,
 * 15-minute sign-in link, the session cookie and its sliding 8-hour expiry, revocation by the
 * operator, CSRF tokens and Origin on every form, and a session that never reaches another
 * tenant's data, whatever URL it is pointed at.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, bodyOf, call, createTenant, ORIGIN, scim, type TestTenant } from "./support/http";
import { GROUP, USER } from "./support/urns";
import { shardOf } from "./support/shards";

const COOKIE = "__Host-scim_console";

async function consoleLink(tenant: TestTenant): Promise<{ url: string; expiresAt: string }> {
  const res = await admin(`/tenants/${tenant.id}/console-links`, { method: "POST" });
  expect(res.status).toBe(201);
  return bodyOf(res);
}

function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

/** Signs in through a fresh link and returns the cookie header to send. */
async function signIn(tenant: TestTenant): Promise<string> {
  const { url } = await consoleLink(tenant);
  const res = await postForm(url, {});
  expect(res.status, await res.clone().text()).toBe(303);
  const setCookie = res.headers.get("Set-Cookie") ?? "";
  const value = new RegExp(`^${COOKIE}=([^;]+)`).exec(setCookie)?.[1];
  if (!value) throw new Error(`no session cookie in ${setCookie}`);
  return `${COOKIE}=${value}`;
}

function page(path: string, cookie: string): Promise<Response> {
  return call(path, { headers: { Cookie: cookie }, redirect: "manual" });
}

async function csrfOf(path: string, cookie: string): Promise<string> {
  const html = await (await page(path, cookie)).text();
  const token = /name="csrf" value="([0-9a-f]{64})"/.exec(html)?.[1];
  if (!token) throw new Error(`no CSRF token on ${path}: ${html.slice(0, 300)}`);
  return token;
}

async function createGroup(tenant: TestTenant, displayName: string): Promise<string> {
  const res = await scim(tenant, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName } });
  expect(res.status).toBe(201);
  return (await bodyOf<{ id: string }>(res)).id;
}

async function roleOf(tenantId: string, groupId: string): Promise<string | null> {
  const row = await (await shardOf(tenantId)).prepare("SELECT role FROM groups WHERE tenant_id = ? AND id = ?").bind(tenantId, groupId).first<{ role: string | null }>();
  return row?.role ?? null;
}

describe("console sign-in links", () => {
  it("issues a link valid 15 minutes whose POST opens a session in a Secure, HttpOnly, SameSite=Strict __Host- cookie", async () => {
    const tenant = await createTenant({ name: "Contoso console" });
    const before = Date.now();
    const link = await consoleLink(tenant);
    expect(link.url).toMatch(new RegExp(`^${ORIGIN}/console/sign-in/[A-Za-z0-9_-]{43}$`));
    const ttl = Date.parse(link.expiresAt) - before;
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000 + 1_000);

    // The GET only shows a button: a mail scanner that fetches the link does not burn it.
    const shown = await call(link.url);
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain("Contoso console");

    const res = await postForm(link.url, {});
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe(`/console/${tenant.id}`);
    const cookie = res.headers.get("Set-Cookie") ?? "";
    expect(cookie).toMatch(new RegExp(`^${COOKIE}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$`));
    // Only the hash is stored.
    const sessionId = /=([^;]+)/.exec(cookie)?.[1] ?? "";
    const stored = await env.DB.prepare("SELECT id_hash FROM console_sessions WHERE tenant_id = ?").bind(tenant.id).all<{ id_hash: string }>();
    expect(stored.results).toHaveLength(1);
    expect(stored.results[0]?.id_hash).not.toContain(sessionId);

    const overview = await page(`/console/${tenant.id}`, `${COOKIE}=${sessionId}`);
    expect(overview.status).toBe(200);
    expect(overview.headers.get("Cache-Control")).toBe("no-store");
    expect(overview.headers.get("Content-Security-Policy")).toMatch(/default-src 'none'; style-src 'nonce-/);
    expect(await overview.text()).toContain("Never called");
  });

  it("signs in once: the second use of a link is refused and opens no session", async () => {
    const tenant = await createTenant();
    const { url } = await consoleLink(tenant);
    expect((await postForm(url, {})).status).toBe(303);
    const again = await postForm(url, {});
    expect(again.status).toBe(410);
    expect(again.headers.get("Set-Cookie")).toBeNull();
    expect(await again.text()).toContain("already used");
    const sessions = await env.DB.prepare("SELECT count(*) AS n FROM console_sessions WHERE tenant_id = ?").bind(tenant.id).first<{ n: number }>();
    expect(sessions?.n).toBe(1);
  });

  it("refuses an expired link (410) and an unknown one (404)", async () => {
    const tenant = await createTenant();
    const { url } = await consoleLink(tenant);
    await env.DB.prepare("UPDATE console_links SET expires_at = ? WHERE tenant_id = ?").bind(new Date(Date.now() - 1000).toISOString(), tenant.id).run();
    const expired = await postForm(url, {});
    expect(expired.status).toBe(410);
    expect(expired.headers.get("Set-Cookie")).toBeNull();
    expect((await call(url)).status).toBe(410);
    expect((await postForm(`${ORIGIN}/console/sign-in/not-a-code`, {})).status).toBe(404);
  });

  it("refuses a sign-in POST from another origin or without Origin, and the link still works afterwards", async () => {
    const tenant = await createTenant();
    const { url } = await consoleLink(tenant);
    expect((await postForm(url, {}, { Origin: "https://evil.example" })).status).toBe(403);
    const bare = await call(url, { method: "POST", redirect: "manual" });
    expect(bare.status).toBe(403);
    expect((await postForm(url, {})).status).toBe(303);
  });
});

describe("console sessions", () => {
  it("ends when it expires: 401 and no tenant data", async () => {
    const tenant = await createTenant({ name: "Expiring Org" });
    const cookie = await signIn(tenant);
    await env.DB.prepare("UPDATE console_sessions SET expires_at = ? WHERE tenant_id = ?").bind(new Date(Date.now() - 1000).toISOString(), tenant.id).run();
    const res = await page(`/console/${tenant.id}`, cookie);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain("Expiring Org");
  });

  it("slides: a request after a minute of silence moves the expiry 8 hours ahead and re-sends the cookie", async () => {
    const tenant = await createTenant();
    const cookie = await signIn(tenant);
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    await env.DB.prepare("UPDATE console_sessions SET expires_at = ?, last_seen_at = ? WHERE tenant_id = ?")
      .bind(soon, new Date(Date.now() - 120_000).toISOString(), tenant.id)
      .run();
    const res = await page(`/console/${tenant.id}/log`, cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get("Set-Cookie")).toMatch(/Max-Age=28800/);
    await expect
      .poll(async () => {
        const row = await env.DB.prepare("SELECT expires_at FROM console_sessions WHERE tenant_id = ?").bind(tenant.id).first<{ expires_at: string }>();
        return Date.parse(row?.expires_at ?? "") - Date.now();
      })
      .toBeGreaterThan(7.9 * 3_600_000);
  });

  it("is revoked by the operator: every session of the tenant ends and unused links stop working", async () => {
    const tenant = await createTenant();
    const cookie = await signIn(tenant);
    const unused = await consoleLink(tenant);
    expect((await page(`/console/${tenant.id}`, cookie)).status).toBe(200);
    const revoked = await admin(`/tenants/${tenant.id}/console-sessions`, { method: "DELETE" });
    expect(revoked.status).toBe(204);
    expect((await page(`/console/${tenant.id}`, cookie)).status).toBe(401);
    expect((await postForm(unused.url, {})).status).toBe(404);
    expect((await admin(`/tenants/${crypto.randomUUID()}/console-sessions`, { method: "DELETE" })).status).toBe(404);
  });

  it("ends with its tenant: deleting the tenant deletes its sessions and links", async () => {
    const tenant = await createTenant();
    const cookie = await signIn(tenant);
    await consoleLink(tenant);
    expect((await admin(`/tenants/${tenant.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await page(`/console/${tenant.id}`, cookie)).status).toBe(401);
    const left = await env.DB.prepare("SELECT (SELECT count(*) FROM console_sessions WHERE tenant_id = ?1) + (SELECT count(*) FROM console_links WHERE tenant_id = ?1) AS n")
      .bind(tenant.id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it("ends at sign-out", async () => {
    const tenant = await createTenant();
    const cookie = await signIn(tenant);
    const csrf = await csrfOf(`/console/${tenant.id}`, cookie);
    const out = await postForm(`/console/${tenant.id}/sign-out`, { csrf }, { Cookie: cookie });
    expect(out.status).toBe(200);
    expect(out.headers.get("Set-Cookie")).toMatch(/Max-Age=0/);
    expect((await page(`/console/${tenant.id}`, cookie)).status).toBe(401);
  });
});

describe("console forms", () => {
  it("change nothing without the session's CSRF token, or with another session's", async () => {
    const tenant = await createTenant();
    const groupId = await createGroup(tenant, "Engineering");
    const cookie = await signIn(tenant);
    const otherSession = await signIn(tenant);
    const foreignToken = await csrfOf(`/console/${tenant.id}`, otherSession);
    const path = `/console/${tenant.id}/groups/${groupId}`;
    expect((await postForm(path, { role: "admin", domains: "" }, { Cookie: cookie })).status).toBe(403);
    expect((await postForm(path, { role: "admin", domains: "", csrf: "0".repeat(64) }, { Cookie: cookie })).status).toBe(403);
    expect((await postForm(path, { role: "admin", domains: "", csrf: foreignToken }, { Cookie: cookie })).status).toBe(403);
    expect(await roleOf(tenant.id, groupId)).toBeNull();

    const csrf = await csrfOf(path, cookie);
    const saved = await postForm(path, { role: "admin", domains: "Example.com, example.org", csrf }, { Cookie: cookie });
    expect(saved.status).toBe(303);
    expect(await roleOf(tenant.id, groupId)).toBe("admin");
    const listed = await bodyOf<{ groups: { role: string; domains: string[] }[] }>(await admin(`/tenants/${tenant.id}/groups`));
    expect(listed.groups[0]).toMatchObject({ role: "admin", domains: ["example.com", "example.org"] });
  });

  it("change nothing when posted from another origin or without Origin, even with the right CSRF token", async () => {
    const tenant = await createTenant();
    const groupId = await createGroup(tenant, "Sales");
    const cookie = await signIn(tenant);
    const path = `/console/${tenant.id}/groups/${groupId}`;
    const csrf = await csrfOf(path, cookie);
    expect((await postForm(path, { role: "admin", domains: "", csrf }, { Cookie: cookie, Origin: "https://evil.example" })).status).toBe(403);
    const noOrigin = await call(path, {
      method: "POST",
      headers: { Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ role: "admin", domains: "", csrf }).toString(),
    });
    expect(noOrigin.status).toBe(403);
    expect(await roleOf(tenant.id, groupId)).toBeNull();
  });

  it("answer 400 with the field named for an invalid domain, and change nothing", async () => {
    const tenant = await createTenant();
    const groupId = await createGroup(tenant, "Support");
    const cookie = await signIn(tenant);
    const path = `/console/${tenant.id}/groups/${groupId}`;
    const csrf = await csrfOf(path, cookie);
    const res = await postForm(path, { role: "agent", domains: "not a domain!", csrf }, { Cookie: cookie });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("must be a domain name");
    expect(await roleOf(tenant.id, groupId)).toBeNull();
  });

  it("rotate the token only when confirmed; the old token then gets 401 and the new one 200", async () => {
    const tenant = await createTenant();
    const cookie = await signIn(tenant);
    const path = `/console/${tenant.id}/settings/token`;
    const csrf = await csrfOf(`/console/${tenant.id}/settings`, cookie);
    const unconfirmed = await postForm(path, { csrf }, { Cookie: cookie });
    expect(unconfirmed.status).toBe(400);
    expect((await scim(tenant, "/ServiceProviderConfig")).status).toBe(200);

    const rotated = await postForm(path, { csrf, confirmRotation: "on" }, { Cookie: cookie });
    expect(rotated.status).toBe(200);
    const token = /id="scim-token" value="(scim_[A-Za-z0-9_-]{43})"/.exec(await rotated.text())?.[1];
    expect(token).toBeDefined();
    expect((await scim(tenant, "/ServiceProviderConfig")).status).toBe(401);
    expect((await scim({ ...tenant, token: token ?? "" }, "/ServiceProviderConfig")).status).toBe(200);
  });
});

describe("a console session never reaches another tenant", () => {
  it("answers 404 for another tenant's pages, groups and forms, showing none of its data", async () => {
    const mine = await createTenant({ name: "Mine Org" });
    const theirs = await createTenant({ name: "Theirs Org" });
    const theirGroup = await createGroup(theirs, "Their secret group");
    const userRes = await scim(theirs, "/Users", { method: "POST", json: { schemas: [USER], userName: "their.user@theirs.example" } });
    expect(userRes.status).toBe(201);
    const cookie = await signIn(mine);
    const csrf = await csrfOf(`/console/${mine.id}`, cookie);

    for (const path of ["", "/log", "/users", "/groups", "/settings", `/groups/${theirGroup}`]) {
      const res = await page(`/console/${theirs.id}${path}`, cookie);
      expect(res.status, path).toBe(404);
      const html = await res.text();
      expect(html).not.toContain("Theirs Org");
      expect(html).not.toContain("Their secret group");
    }
    // Their group's id under my tenant's URL: looked up in my tenant only.
    const tampered = await page(`/console/${mine.id}/groups/${theirGroup}`, cookie);
    expect(tampered.status).toBe(404);
    expect(await tampered.text()).not.toContain("Their secret group");
    expect(await (await page(`/console/${mine.id}/users?q=their`, cookie)).text()).not.toContain("their.user@theirs.example");

    // Forms: through their URL, and their group through mine.
    expect((await postForm(`/console/${theirs.id}/groups/${theirGroup}`, { role: "owned", domains: "", csrf }, { Cookie: cookie })).status).toBe(404);
    expect((await postForm(`/console/${mine.id}/groups/${theirGroup}`, { role: "owned", domains: "", csrf }, { Cookie: cookie })).status).toBe(404);
    expect((await postForm(`/console/${theirs.id}/settings/token`, { csrf, confirmRotation: "on" }, { Cookie: cookie })).status).toBe(404);
    expect(await roleOf(theirs.id, theirGroup)).toBeNull();
    expect((await scim(theirs, "/ServiceProviderConfig")).status).toBe(200);
  });
});
