/**
 * Where a webhook may be sent: `https:` only, except plain `http:` to a loopback host, so tests
 * and `wrangler dev` can use a local receiver (the same hostnames src/env.ts treats as local
 * development). A secret-signed payload over plain HTTP anywhere else would travel readable.
 */
const LOOPBACK_HOSTNAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);
export const MAX_URL_CHARS = 2_000;

/** Why the URL is refused, or undefined when it is fine. */
export function webhookUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return "url: not an absolute URL";
  const url = new URL(value);
  if (url.username || url.password) return "url: must not carry credentials";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTNAMES.has(url.hostname)) return undefined;
  return "url: must be https: (plain http: only to 127.0.0.1, localhost or [::1])";
}
