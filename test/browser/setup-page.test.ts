/**
 * The setup page end to end in a real browser against the real Worker: an IT admin whose
 * organisation already has a working integration confirms disconnecting it, picks Entra ID,
 * generates credentials, and Entra's "Test Connection" probe succeeds with them. The form is
 * a real form POST, so this also proves Chromium sends the `Origin` the server checks.
 */
import { request as httpRequest } from "node:http";
import { mkdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { workerAndBrowser } from "./suite";

const STEP_TIMEOUT_MS = 15_000;
const SCREENSHOT = "test-results/setup-page.png";

interface CreatedTenant {
  tenant: { id: string };
  scim: { baseUrl: string; token: string };
  setupUrl: string;
}

interface HttpResult {
  status: number;
  contentType: string | undefined;
  body: string;
}

/**
 * A GET with exactly the given headers. fetch() always adds Accept; Entra's probe sends
 * neither Accept nor Content-Type, so this goes through node:http.
 */
function bareGet(url: string, headers: Record<string, string>): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "GET", headers, timeout: STEP_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers["content-type"],
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

describe("setup page in Chromium", () => {
  const started = workerAndBrowser(STEP_TIMEOUT_MS);

  async function adminCall(path: string, init: RequestInit = {}): Promise<Response> {
    const { worker } = started();
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${worker.adminToken}`);
    return fetch(`${worker.url}/admin${path}`, { ...init, headers, signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  }

  it("issues credentials that pass Entra ID's Test Connection, once", async () => {
    const { browser, worker } = started();
    const created = await adminCall("/tenants", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Contoso Ltd", provider: "okta", setupLink: true }),
    });
    expect(created.status).toBe(201);
    const { tenant, scim: firstCredentials, setupUrl } = (await created.json()) as CreatedTenant;

    // An IdP already works with the first token; "last used" is stamped after its response.
    const firstProbe = await bareGet(`${firstCredentials.baseUrl}/ServiceProviderConfig`, {
      Authorization: `Bearer ${firstCredentials.token}`,
    });
    expect(firstProbe.status, firstProbe.body).toBe(200);
    await expect
      .poll(async () => ((await (await adminCall(`/tenants/${tenant.id}`)).json()) as { token: { lastUsedAt: string | null } }).token.lastUsedAt)
      .not.toBeNull();

    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    // CSP violations and script errors surface as console errors.
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(error.message));

    try {
      const form = await page.goto(setupUrl);
      expect(form?.status()).toBe(200);
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Connect your identity provider");
      expect(await page.getByText("Contoso Ltd").count()).toBeGreaterThan(0);
      expect(await page.getByLabel("Okta").isChecked()).toBe(true);

      await page.getByLabel("Microsoft Entra ID").check();
      await page.getByLabel("Sync users").check();
      await page.getByLabel("Sync groups").uncheck();
      await page.getByLabel(/Default role/).fill("member");
      await page.getByLabel(/Domain restrictions/).fill("Contoso.com\nfabrikam.com");
      expect(await page.getByText("An identity provider is connected:").count()).toBe(1);
      const confirm = page.getByLabel(/I understand: disconnect the current identity provider/);
      expect(await confirm.isChecked()).toBe(false);
      // Unconfirmed, the browser itself refuses to submit (the checkbox is required)...
      await page.getByRole("button", { name: "Generate SCIM credentials" }).click();
      expect(await confirm.evaluate((box) => (box as HTMLInputElement).validity.valueMissing)).toBe(true);
      expect(await page.locator("#scim-token").count()).toBe(0);
      // ...and with the confirmation it does.
      await confirm.check();
      await page.screenshot({ path: "test-results/setup-form.png", fullPage: true });
      await page.getByRole("button", { name: "Generate SCIM credentials" }).click();

      await page.locator("#scim-token").waitFor();
      const token = await page.locator("#scim-token").inputValue();
      const baseUrl = await page.locator("#scim-base-url").inputValue();
      expect(token).toMatch(/^scim_/);
      expect(baseUrl).toBe(`${worker.url}/scim/v2/${tenant.id}`);
      expect(await page.getByText("Sync only assigned users and groups").count()).toBe(1);

      await page.getByRole("button", { name: "Copy Bearer token" }).click();
      await expect.poll(() => page.locator("#copy-status").textContent()).toContain("copied");
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

      await mkdir("test-results", { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(consoleErrors).toEqual([]);

      // Entra's Test Connection: a filter on a random userName, no Accept or Content-Type.
      const probe = await bareGet(
        `${baseUrl}/Users?filter=${encodeURIComponent(`userName eq "${crypto.randomUUID()}"`)}`,
        { Authorization: `Bearer ${token}` },
      );
      expect(probe.status, probe.body).toBe(200);
      expect(probe.contentType).toMatch(/^application\/scim\+json/);
      const list = JSON.parse(probe.body) as { schemas: string[]; totalResults: number };
      expect(list.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
      expect(list.totalResults).toBe(0);
      const disconnected = await bareGet(`${baseUrl}/ServiceProviderConfig`, { Authorization: `Bearer ${firstCredentials.token}` });
      expect(disconnected.status).toBe(401);

      const settings = await adminCall(`/tenants/${tenant.id}`);
      expect(await settings.json()).toMatchObject({
        provider: "entra",
        userSync: true,
        groupSync: false,
        defaultRole: "member",
        domainRestrictions: ["contoso.com", "fabrikam.com"],
      });

      const reopened = await page.goto(setupUrl);
      expect(reopened?.status()).toBe(410);
      expect(await page.getByText("This setup link has already been used").count()).toBe(1);
      expect(reopened?.headers()["cache-control"]).toBe("no-store");
    } finally {
      await context.close();
    }
  });
});
