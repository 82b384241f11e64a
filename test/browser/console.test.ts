/**
 * The tenant admin console end to end in Chromium against the real Worker: an IT admin signs in
 * through the operator's console link, reads each page and finds what the operator API says,
 * sees a failed IdP request in the log with its diagnosis, edits a group's role, rotates the
 * token (the old one then gets 401, the new one 200), and cannot reach a second tenant's data
 * by editing URLs. Every page is checked at 390 px wide (no horizontal scroll, every control
 * labelled), and the token rotation is done with the keyboard alone.
 */
import { mkdir } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { workerAndBrowser } from "./suite";

const STEP_TIMEOUT_MS = 15_000;
const SCIM_JSON = "application/scim+json";
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

interface Tenant {
  id: string;
  baseUrl: string;
  token: string;
}

/** What a page must hold at 390 px: nothing wider than the viewport, and a label for every control. */
async function checkAccessible(page: Page, what: string): Promise<void> {
  const report = await page.evaluate(() => {
    const overflow = document.documentElement.scrollWidth - window.innerWidth;
    const unlabelled = Array.from(document.querySelectorAll("input, select, textarea, button"))
      .filter((el) => !(el instanceof HTMLInputElement && el.type === "hidden"))
      .filter((el) => {
        const control = el as HTMLInputElement;
        const named = (control.labels?.length ?? 0) > 0 || control.getAttribute("aria-label") || (el.tagName === "BUTTON" && el.textContent?.trim());
        return !named;
      })
      .map((el) => el.outerHTML.slice(0, 120));
    return { overflow, unlabelled, lang: document.documentElement.lang, h1: document.querySelectorAll("h1").length };
  });
  expect(report.overflow, `${what}: horizontal scroll at 390 px`).toBeLessThanOrEqual(0);
  expect(report.unlabelled, `${what}: controls without a label`).toEqual([]);
  expect(report.lang).toBe("en");
  expect(report.h1, `${what}: one h1`).toBe(1);
}

describe("tenant console in Chromium", () => {
  const started = workerAndBrowser(STEP_TIMEOUT_MS);

  async function adminCall<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: T }> {
    const { worker } = started();
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${worker.adminToken}`);
    if (init.json !== undefined) headers.set("Content-Type", "application/json");
    const res = await fetch(`${worker.url}/admin${path}`, {
      ...init,
      headers,
      body: init.json === undefined ? init.body : JSON.stringify(init.json),
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async function createTenant(name: string, provider: string): Promise<Tenant> {
    const created = await adminCall<{ tenant: { id: string }; scim: { baseUrl: string; token: string } }>("/tenants", {
      method: "POST",
      json: { name, provider, defaultRole: "viewer" },
    });
    expect(created.status).toBe(201);
    return { id: created.body.tenant.id, ...created.body.scim };
  }

  async function scimCall(tenant: Tenant, path: string, init: { method?: string; json?: unknown; token?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${tenant.baseUrl}${path}`, {
      method: init.method ?? "GET",
      headers: { Authorization: `Bearer ${init.token ?? tenant.token}`, "Content-Type": SCIM_JSON, "User-Agent": "Okta SCIM Client 1.0.0" },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  it("lets an admin see, understand and manage provisioning, for their own tenant only", async () => {
    const { browser, worker } = started();
    const acme = await createTenant("Acme Corp", "okta");
    const globex = await createTenant("Globex Secret Org", "entra");

    // Acme's IdP: two users (one deactivated), a group with one of them, and a push naming an unknown member.
    const pat = await scimCall(acme, "/Users", {
      method: "POST",
      json: { schemas: [USER], userName: "pat@acme.example", displayName: "Pat Lee", emails: [{ value: "pat@acme.example", type: "work", primary: true }], roles: [{ value: "editor" }] },
    });
    expect(pat.status).toBe(201);
    const sam = await scimCall(acme, "/Users", { method: "POST", json: { schemas: [USER], userName: "sam@acme.example", displayName: "Sam Roe", active: false } });
    expect(sam.status).toBe(201);
    const engineering = await scimCall(acme, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Engineering", members: [{ value: pat.body.id }] } });
    expect(engineering.status).toBe(201);
    const refused = await scimCall(acme, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Early push", members: [{ value: crypto.randomUUID() }] } });
    expect(refused.status).toBe(400);
    const theirGroup = await scimCall(globex, "/Groups", { method: "POST", json: { schemas: [GROUP], displayName: "Globex Board" } });
    expect(theirGroup.status).toBe(201);

    const link = await adminCall<{ url: string }>(`/tenants/${acme.id}/console-links`, { method: "POST" });
    expect(link.status).toBe(201);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" && !/status of 40[14]/.test(message.text())) consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(error.message));
    const base = `${worker.url}/console/${acme.id}`;
    const nav = (name: string) => page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });

    try {
      // Sign in: the link's page, then its button.
      expect((await page.goto(link.body.url))?.status()).toBe(200);
      await checkAccessible(page, "sign-in");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(base);

      // Overview, against the operator API.
      const api = await adminCall<{ users: number; activeUsers: number }>(`/tenants/${acme.id}`);
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Overview");
      expect(await page.locator("#count-users").textContent()).toBe(String(api.body.users));
      expect(await page.locator("#count-active-users").textContent()).toBe(String(api.body.activeUsers));
      expect(await page.locator("#count-groups").textContent()).toBe("1");
      expect(await page.locator("#scim-base-url").inputValue()).toBe(acme.baseUrl);
      expect(await page.locator("#connection-status").textContent()).toMatch(/^(Healthy|Failing since)/);
      expect(await page.getByText("Okta SCIM Client 1.0.0").count()).toBeGreaterThan(0);
      await page.getByRole("button", { name: "Copy SCIM base URL" }).click();
      await expect.poll(() => page.locator("#copy-status").textContent()).toContain("copied");
      await checkAccessible(page, "overview");

      // The log: the refused push, diagnosed in Okta's terms.
      await nav("Provisioning log").click();
      await page.getByLabel("Failures only").check();
      await page.getByRole("button", { name: "Show" }).click();
      await page.waitForURL(/failures=1/);
      const failure = page.locator("#log tbody tr").first();
      expect(await failure.getAttribute("data-status")).toBe("400");
      expect(await failure.locator("[data-diagnosis]").getAttribute("data-diagnosis")).toBe("unknown-member");
      expect(await failure.textContent()).toContain("Assign the user to the app in Okta first");
      expect(await page.locator("#log tbody tr[data-status='201']").count()).toBe(0);
      await checkAccessible(page, "log");

      // Users: search by email, "not in any group", roles (editor is not in the catalog, so shown as unknown).
      await nav("Users").click();
      await page.getByLabel("Name or email contains").fill("PAT@acme");
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForURL(/q=PAT/);
      const rows = page.locator("#users tbody tr");
      expect(await rows.count()).toBe(1);
      expect(await rows.first().textContent()).toContain("Engineering");
      expect(await rows.first().textContent()).toContain("editor");
      await page.getByLabel("Name or email contains").fill("");
      await page.getByLabel("Not in any group").check();
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForURL(/unassigned=1/);
      expect(await rows.count()).toBe(1);
      expect(await rows.first().textContent()).toContain("sam@acme.example");
      expect(await rows.first().textContent()).toContain("inactive");
      await checkAccessible(page, "users");

      // Groups: the default role was stamped at creation; change it here.
      await nav("Groups").click();
      expect(await page.locator("#groups tbody tr").first().textContent()).toContain("viewer");
      await checkAccessible(page, "groups");
      await page.getByRole("link", { name: "Engineering" }).click();
      expect(await page.locator("#members").textContent()).toContain("pat@acme.example");
      await page.getByLabel("Role").fill("admin");
      await page.getByLabel("Domains").fill("acme.example");
      await page.getByRole("button", { name: "Save role and domains" }).click();
      await page.waitForURL(/saved=1/);
      await checkAccessible(page, "group");
      const groups = await adminCall<{ groups: { displayName: string; role: string; domains: string[] }[] }>(`/tenants/${acme.id}/groups`);
      expect(groups.body.groups.find((g) => g.displayName === "Engineering")).toMatchObject({ role: "admin", domains: ["acme.example"] });

      // Settings: rotate the token with the keyboard alone.
      await nav("Settings").click();
      await checkAccessible(page, "settings");
      await page.locator("body").focus();
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Skip to content");
      let reached = false;
      for (let i = 0; i < 80 && !reached; i++) {
        await page.keyboard.press("Tab");
        reached = await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name === "confirmRotation");
      }
      expect(reached, "the rotation checkbox is reachable with Tab").toBe(true);
      await page.keyboard.press("Space");
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Rotate the token");
      await page.keyboard.press("Enter");
      await page.locator("#scim-token").waitFor();
      const newToken = await page.locator("#scim-token").inputValue();
      expect(newToken).toMatch(/^scim_/);
      await checkAccessible(page, "new token");
      expect((await scimCall(acme, "/ServiceProviderConfig")).status).toBe(401);
      expect((await scimCall(acme, "/ServiceProviderConfig", { token: newToken })).status).toBe(200);

      await mkdir("test-results", { recursive: true });
      await page.goto(base);
      await page.screenshot({ path: "test-results/console-overview.png", fullPage: true });

      // Another tenant: by its URL, and its group's id under ours.
      for (const url of [`${worker.url}/console/${globex.id}`, `${worker.url}/console/${globex.id}/groups`, `${base}/groups/${String(theirGroup.body.id)}`]) {
        const res = await page.goto(url);
        expect(res?.status(), url).toBe(404);
        const html = await page.content();
        expect(html).not.toContain("Globex Secret Org");
        expect(html).not.toContain("Globex Board");
      }
      expect(consoleErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
