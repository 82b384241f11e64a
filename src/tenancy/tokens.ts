/**
 * Secrets: SCIM bearer tokens and setup codes. Only their SHA-256 is ever stored.
 * A token is `scim_` + 43 base64url characters (256 random bits): the prefix lets
 * secret scanners recognise a leaked token.
 */

export const TOKEN_PREFIX = "scim_";
const TOKEN_BYTES = 32;

export interface IssuedSecret {
  /** Shown once to the admin, never stored. */
  secret: string;
  /** Hex SHA-256 of the secret: what storage keeps. */
  hash: string;
}

export interface TokenMetadata {
  prefix: string;
  lastFour: string;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomSecret(prefix: string): string {
  return prefix + base64url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
}

export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function issueToken(): Promise<IssuedSecret & TokenMetadata> {
  const secret = randomSecret(TOKEN_PREFIX);
  return { secret, hash: await sha256Hex(secret), prefix: TOKEN_PREFIX, lastFour: secret.slice(-4) };
}

/** Whether `token` has the shape issueToken gives: anything else cannot be valid, and is refused unlooked-up. */
export function isWellFormedToken(token: string): boolean {
  return /^scim_[A-Za-z0-9_-]{43}$/.test(token);
}

/** Setup codes travel in URLs, so no prefix and no punctuation beyond base64url. */
export async function issueSetupCode(): Promise<IssuedSecret> {
  const secret = randomSecret("");
  return { secret, hash: await sha256Hex(secret) };
}

/**
 * Compares two secrets in constant time. Both sides are hashed first so the comparison
 * always runs over 32 equal-length bytes, whatever the lengths of the inputs.
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** Constant-time equality of two hex hashes already computed (equal length by construction). */
export function hashesEqual(a: string, b: string): boolean {
  const encoder = new TextEncoder();
  const ea = encoder.encode(a);
  const eb = encoder.encode(b);
  return ea.byteLength === eb.byteLength && crypto.subtle.timingSafeEqual(ea, eb);
}

/** Extracts the credentials of an `Authorization: Bearer …` header; undefined for any other shape. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+([\x21-\x7e]+)\s*$/i.exec(header ?? "");
  return match?.[1];
}
