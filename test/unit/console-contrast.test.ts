/**
 * WCAG 2.1 AA for the setup pages and the console, computed on the very colours the stylesheet
 * uses (src/console/palette.ts, the default and any configured accent): text 4.5:1 on its
 * background (1.4.3), control borders and the focus ring 3:1 against what surrounds them (1.4.11).
 */
import { describe, expect, it } from "vitest";
import { accentOf, brandingOf, DEFAULT_ACCENT, logoImageSource } from "../../src/console/branding";
import { contrastRatio } from "../../src/console/contrast";
import { PALETTE } from "../../src/console/palette";
import { pageStyle } from "../../src/routes/page-style";

const WHITE = "#ffffff";
const p = PALETTE;

/** [what, foreground, background] for every text colour on every background it is shown on. */
function textPairs(accent: string): [string, string, string][] {
  return [
    ["body text on a card", p.ink, p.surface],
    ["app name on the page", p.ink, p.page],
    ["hints on a card", p.muted, p.surface],
    ["footer on the page", p.muted, p.page],
    ["field errors", p.bad, p.surface],
    ["failure status", p.bad, p.surface],
    ["success status", p.good, p.surface],
    ["alert text", p.alertInk, p.alertBg],
    ["notice text", p.ink, p.noticeBg],
    ["code", p.ink, p.code],
    ["links on a card", accent, p.surface],
    ["navigation links on the page", accent, p.page],
    ["button text", WHITE, accent],
    ["danger button text", WHITE, p.bad],
  ];
}

function nonTextPairs(accent: string): [string, string, string][] {
  return [
    ["field border", p.field, p.surface],
    ["invalid field border", p.bad, p.surface],
    ["focus ring on a card", accent, p.surface],
    ["focus ring on the page", accent, p.page],
  ];
}

describe("page colours meet WCAG 2.1 AA", () => {
  for (const accent of [DEFAULT_ACCENT, accentOf("#ffcc00"), accentOf("#7fdbff"), accentOf("#00ff00"), accentOf("#ffffff")]) {
    it(`text has 4.5:1 and controls 3:1 with the accent ${accent}`, () => {
      for (const [what, fg, bg] of textPairs(accent)) expect(contrastRatio(fg, bg), `${what}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
      for (const [what, fg, bg] of nonTextPairs(accent)) expect(contrastRatio(fg, bg), `${what}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(3);
    });
  }

  it("no longer uses the 1.45:1 field border of before", () => {
    expect(contrastRatio("#d0d7de", WHITE)).toBeLessThan(1.5);
    const css = pageStyle(DEFAULT_ACCENT);
    expect(css).toMatch(/input\[type=text\][^}]*border: 1px solid var\(--field\)/);
    expect(css).toMatch(/fieldset \{[^}]*var\(--field\)/);
    expect(css).toContain(`--field: ${p.field}`);
  });

  it("computes contrast as WCAG defines it", () => {
    expect(contrastRatio("#000000", WHITE)).toBeCloseTo(21, 5);
    expect(contrastRatio("#777777", WHITE)).toBeCloseTo(4.48, 2);
  });
});

describe("branding vars", () => {
  it("keep only a #rrggbb accent (anything else could escape the CSS rule) and darken a light one", () => {
    expect(accentOf("red; } body { display: none")).toBe(DEFAULT_ACCENT);
    expect(accentOf("#0a5bd3")).toBe("#0a5bd3");
    expect(accentOf("#FFCC00")).not.toBe("#ffcc00");
    expect(accentOf("#FFCC00")).toMatch(/^#[0-9a-f]{6}$/);
  });

  it("accept only an https or data:image logo, and an email or https support contact", () => {
    const brand = brandingOf({ APP_NAME: " Acme HR ", APP_LOGO_URL: "https://cdn.acme.example/logo.png", APP_SUPPORT_CONTACT: "it@acme.example" });
    expect(brand).toMatchObject({ appName: "Acme HR", logoUrl: "https://cdn.acme.example/logo.png", support: { href: "mailto:it@acme.example" } });
    expect(logoImageSource(brand)).toBe("https://cdn.acme.example");
    expect(brandingOf({ APP_LOGO_URL: "javascript:alert(1)" }).logoUrl).toBeNull();
    expect(brandingOf({ APP_LOGO_URL: "http://insecure.example/logo.png" }).logoUrl).toBeNull();
    expect(brandingOf({ APP_SUPPORT_CONTACT: "javascript:alert(1)" }).support).toBeNull();
    expect(brandingOf({}).appName).toBe("SCIM provisioning");
  });
});
