/**
 * The operator's branding for the setup page and the console, from wrangler.toml [vars]:
 * APP_NAME, APP_LOGO_URL, APP_ACCENT_COLOR, APP_SUPPORT_CONTACT. Each value is validated here,
 * because it ends up in HTML, in CSS and in the Content-Security-Policy.
 */
import { darkenUntilContrast, parseHexColor } from "./contrast";
import { PALETTE } from "./palette";

export interface Branding {
  appName: string;
  /** An https: URL or a data:image URL; null when unset or unusable. */
  logoUrl: string | null;
  /** `#rrggbb`, with at least 4.5:1 on white and on the page background (button background, link colour, focus ring). */
  accent: string;
  /** An email address (shown as a mailto: link) or an https: URL; null when unset. */
  support: { text: string; href: string } | null;
}

export const DEFAULT_APP_NAME = "SCIM provisioning";
export const DEFAULT_ACCENT = "#0a5bd3";
const MAX_NAME_CHARS = 80;
const MAX_LOGO_URL_CHARS = 20_000;

export interface BrandingVars {
  APP_NAME?: string | undefined;
  APP_LOGO_URL?: string | undefined;
  APP_ACCENT_COLOR?: string | undefined;
  APP_SUPPORT_CONTACT?: string | undefined;
}

export function brandingOf(vars: BrandingVars): Branding {
  const name = vars.APP_NAME?.trim().slice(0, MAX_NAME_CHARS);
  return { appName: name || DEFAULT_APP_NAME, logoUrl: logoUrlOf(vars.APP_LOGO_URL), accent: accentOf(vars.APP_ACCENT_COLOR), support: supportOf(vars.APP_SUPPORT_CONTACT) };
}

/**
 * Only a hex colour reaches the stylesheet (anything else could end the CSS rule); one too
 * light (WCAG 1.4.3, 4.5:1 for white text on it and for it as link text) is darkened in its own
 * hue rather than refused. Checked against the page background, the darker of the two it sits
 * on, so it holds on white too.
 */
export function accentOf(value: string | undefined): string {
  if (!value || !parseHexColor(value)) return DEFAULT_ACCENT;
  return darkenUntilContrast(value.trim().toLowerCase(), PALETTE.page, 4.5);
}

function logoUrlOf(value: string | undefined): string | null {
  const url = value?.trim();
  if (!url || url.length > MAX_LOGO_URL_CHARS) return null;
  if (/^data:image\/(png|gif|jpeg|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$/.test(url)) return url;
  if (!URL.canParse(url)) return null;
  const parsed = new URL(url);
  return parsed.protocol === "https:" && !parsed.username && !parsed.password ? parsed.href : null;
}

function supportOf(value: string | undefined): Branding["support"] {
  const contact = value?.trim();
  if (!contact) return null;
  if (/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(contact)) return { text: contact, href: `mailto:${contact}` };
  if (URL.canParse(contact) && new URL(contact).protocol === "https:") return { text: contact, href: new URL(contact).href };
  return null;
}

/** The CSP img-src the logo needs: its origin, `data:`, or nothing. */
export function logoImageSource(branding: Branding): string | null {
  if (!branding.logoUrl) return null;
  return branding.logoUrl.startsWith("data:") ? "data:" : new URL(branding.logoUrl).origin;
}
