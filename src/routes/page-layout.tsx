/**
 * What the setup pages and the console share: the HTML frame with the operator's branding,
 * the copy-button script, and the response headers (CSP with a per-response nonce, no caching,
 * no framing). No external assets; the logo is the one image source the CSP admits.
 */
import type { Context } from "hono";
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type Branding, brandingOf, logoImageSource } from "../console/branding";
import type { AppEnv } from "../env";
import { pageStyle } from "./page-style";

/** What every page component needs: the response's nonce and the branding. */
export interface PageFrame {
  nonce: string;
  brand: Branding;
}

// Copy buttons: the Clipboard API where allowed, else select-and-copy; the status is announced.
const COPY_SCRIPT = `
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("copy-status");
    field.select();
    var copied = navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.reject();
    copied.catch(function () { document.execCommand("copy"); }).then(function () {
      status.textContent = button.getAttribute("aria-label") + ": copied to the clipboard.";
    });
  });
});
`;

export const Layout: FC<{ title: string; frame: PageFrame; script?: boolean; narrow?: boolean; nav?: Child; children?: Child }> = ({
  title,
  frame,
  script,
  narrow,
  nav,
  children,
}) => (
  <>
    {raw("<!DOCTYPE html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{`${title} · ${frame.brand.appName}`}</title>
        <style nonce={frame.nonce} dangerouslySetInnerHTML={{ __html: pageStyle(frame.brand.accent) }} />
      </head>
      <body>
        {/* WCAG 2.4.1: keyboard users skip the header and navigation. */}
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="brand">
          {frame.brand.logoUrl && <img src={frame.brand.logoUrl} alt="" />}
          <span class="app">{frame.brand.appName}</span>
        </header>
        {nav}
        <main id="main" tabindex={-1} class={narrow === false ? undefined : "narrow"}>
          {children}
        </main>
        {frame.brand.support && (
          <footer>
            Need help? Contact <a href={frame.brand.support.href}>{frame.brand.support.text}</a>.
          </footer>
        )}
        {script && <script nonce={frame.nonce} dangerouslySetInnerHTML={{ __html: COPY_SCRIPT }} />}
      </body>
    </html>
  </>
);

type Rendered = string | Promise<string>;

function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/**
 * Every HTML response goes through here. Pages carry secrets (setup codes, tokens, the
 * tenant's directory), hence no caching. Referrer-Policy `same-origin`, not `no-referrer`:
 * with the latter browsers send `Origin: null` on form POSTs (Fetch, "append a request Origin
 * header"), and the POSTs check that Origin. The CSP admits only this response's own inline
 * style and script, and the configured logo.
 */
export function renderPage<E extends { Bindings: AppEnv["Bindings"] }>(c: Context<E>, status: ContentfulStatusCode, page: (frame: PageFrame) => Rendered) {
  const nonce = newNonce();
  const brand = brandingOf(c.env);
  const logo = logoImageSource(brand);
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "same-origin");
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; ` +
      `${logo ? `img-src ${logo}; ` : ""}form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  );
  c.header("X-Content-Type-Options", "nosniff");
  c.header("X-Frame-Options", "DENY");
  c.header("X-Robots-Tag", "noindex");
  return c.html(page({ nonce, brand }), status);
}

export const MessagePage: FC<{ frame: PageFrame; title: string; message: string; children?: Child }> = ({ frame, title, message, children }) => (
  <Layout title={title} frame={frame}>
    <h1>{title}</h1>
    <p>{message}</p>
    {children}
  </Layout>
);

/** A page that only says something (a refusal, an error, a confirmation), with renderPage's headers. */
export function renderMessage<E extends { Bindings: AppEnv["Bindings"] }>(c: Context<E>, status: ContentfulStatusCode, title: string, message: string) {
  return renderPage(c, status, (frame) => <MessagePage frame={frame} title={title} message={message} />);
}

/** `2026-12-01T09:30:12.345Z` → `2026-12-01 09:30 UTC`. */
export function minuteUtc(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}

export const CopyableField: FC<{ id: string; label: string; value: string }> = ({ id, label, value }) => (
  <div class="field">
    <label for={id}>{label}</label>
    <div class="copyable">
      <input type="text" class="secret" id={id} value={value} readonly autocomplete="off" spellcheck={false} />
      <button type="button" class="copy" data-copy={id} aria-label={`Copy ${label}`}>
        Copy
      </button>
    </div>
  </div>
);
