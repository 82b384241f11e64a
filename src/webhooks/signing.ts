/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the key is the base64 part
 * after `whsec_`, the signature `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
 * During a rotation both secrets sign, space-separated, which the specification allows so a
 * receiver holding either one verifies. WebCrypto only: no library in the Worker.
 */
const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(value: string): Uint8Array<ArrayBuffer> {
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/**
 * Imported HMAC keys by secret, per isolate: a batch signs many deliveries to the same endpoint,
 * and importing the key each time was a measurable part of an attempt. Bounded (endpoints are
 * few; a rotation adds one), cleared when full.
 */
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_KEYS = 100;

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = crypto.subtle.importKey("raw", fromBase64(secret.slice(SECRET_PREFIX.length)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    // A failed import is not kept: the next attempt tries again.
    key.catch(() => keys.delete(secret));
    keys.set(secret, key);
  }
  return key;
}

/** One `v1,<base64>` signature of the message. */
export async function signV1(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const key = await hmacKey(secret);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The `webhook-*` headers of one attempt: every given secret signs. */
export async function signedHeaders(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((secret) => signV1(secret, id, timestampSeconds, body)));
  return {
    "Content-Type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}
