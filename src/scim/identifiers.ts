/**
 * Characters a SCIM body may not carry: lone surrogates anywhere, and invisible characters in
 * the names IdPs match on (userName, group displayName, externalId). Pure; no imports of ours
 * beyond the errors.
 */
import { scimErrors } from "./errors";

/**
 * A UTF-16 surrogate without its partner. JSON allows `"\ud800"`, but such a string has no
 * UTF-8 form: D1 would store a replacement character in the key columns while the JSON
 * document keeps the escape, so the key and the document would disagree.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters that render as
 * nothing, so `ann\u00ADa` looks like `anna` to the IdP admin reading a list of names. They are
 * refused rather than stripped: stripping would store a name the IdP did not send and then
 * answer the next create of the visible name with a 409 the admin cannot explain; a 400 naming
 * the attribute tells them exactly what to fix in the IdP's source attribute. Written out
 * rather than `\p{Default_Ignorable_Code_Point}` so the set does not move with the runtime's
 * Unicode version.
 */
const DEFAULT_IGNORABLE =
  /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\u{1bca0}-\u{1bca3}\u{1d173}-\u{1d17a}\u{e0000}-\u{e0fff}]/u;

/** C0, DEL and C1 controls: never part of a name (log forging, terminal escapes). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

const MAX_IDENTIFIER_LENGTH = 256;

export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

export function hasDefaultIgnorable(value: string): boolean {
  return DEFAULT_IGNORABLE.test(value);
}

/**
 * True when the value holds a non-ASCII code point that NFC turns into ASCII: the Kelvin sign
 * U+212A (NFC: `K`), the Greek question mark U+037E (`;`) and the Greek varia U+1FEF (`` ` ``).
 * They are look-alikes that NFC alone would make equal to a plain ASCII name, which then folds
 * case like one (`\u212Aate` → `Kate` → `kate`). Other code points NFC replaces (the Ohm sign,
 * CJK compatibility ideographs, Devanagari letters with a nukta) stay non-ASCII, so they only
 * ever match exactly, and real names use them.
 */
export function hasAsciiLookAlike(value: string): boolean {
  return firstAsciiLookAlike(value) !== undefined;
}

const HAS_ASCII = /[\u0000-\u007f]/;

function firstAsciiLookAlike(value: string): string | undefined {
  for (const ch of value) if (ch > "\u007f" && HAS_ASCII.test(ch.normalize("NFC"))) return ch;
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The path (`emails[1].value`, `Operations[0].value.userName`) of the first string or key with
 * a lone surrogate. Iterative: a 1 MB body can nest arrays 500,000 deep, past any call stack.
 */
function findLoneSurrogate(body: unknown): string | undefined {
  const pending: { value: unknown; path: string }[] = [{ value: body, path: "" }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === "string") {
      if (hasLoneSurrogate(value)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push({ value: value[i], path: `${path}[${i}]` });
    } else if (isObject(value)) {
      const keys = Object.keys(value);
      // A key with a lone surrogate is named by its escaped form (JSON.stringify escapes it).
      const badKey = keys.find(hasLoneSurrogate);
      if (badKey !== undefined) return path === "" ? JSON.stringify(badKey) : `${path}.${JSON.stringify(badKey)}`;
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        pending.push({ value: value[key], path: path === "" ? key : `${path}.${key}` });
      }
    }
  }
  return undefined;
}

/**
 * Refuses a body (POST, PUT or PATCH) with a lone surrogate in any string value or key, known
 * attribute or not: 400 invalidValue naming where it is. Checked before anything is parsed, so
 * nothing is stored.
 */
export function refuseLoneSurrogates(body: unknown): void {
  const at = findLoneSurrogate(body);
  if (at === undefined) return;
  throw scimErrors.invalidValue(`"${at}" contains a lone UTF-16 surrogate (such as \\ud800), which is not a character; send valid Unicode text.`);
}

/**
 * userName / group displayName: the names IdPs match on and unique indexes key on. NFC so one
 * name has one spelling; no empty, overlong, control or invisible characters (near-duplicate
 * names, log forging). Returns the NFC form that is stored.
 */
export function checkIdentifier(value: string, label: string): string {
  const nfc = value.normalize("NFC");
  if (nfc.trim() === "") throw scimErrors.invalidValue(`Attribute "${label}" must not be empty.`);
  if ([...nfc].length > MAX_IDENTIFIER_LENGTH) {
    throw scimErrors.invalidValue(`Attribute "${label}" must be at most ${MAX_IDENTIFIER_LENGTH} characters.`);
  }
  if (CONTROL.test(nfc)) throw scimErrors.invalidValue(`Attribute "${label}" must not contain control characters.`);
  refuseDefaultIgnorable(nfc, label);
  // NFC would store `Kate` for `\u212Aate` (Kelvin sign): a name the IdP did not send, equal
  // (case-insensitively) to another user's. Refused rather than silently made ASCII.
  const folded = firstAsciiLookAlike(value);
  if (folded !== undefined) {
    throw scimErrors.invalidValue(
      `Attribute "${label}" contains U+${hex(folded)}, which Unicode normalisation replaces by the ASCII look-alike "${folded.normalize("NFC")}"; send that character instead.`,
    );
  }
  return nfc;
}

/**
 * externalId is case-exact and not normalised (the IdP's own key, RFC 7643 §3.1), but an
 * invisible character in it would make two ids that look the same to the IdP admin.
 */
export function refuseDefaultIgnorable(value: string, label: string): void {
  const match = DEFAULT_IGNORABLE.exec(value);
  if (!match) return;
  throw scimErrors.invalidValue(
    `Attribute "${label}" must not contain invisible (default-ignorable) characters such as soft hyphens, zero-width or bidirectional formatting characters; found U+${hex(match[0])}.`,
  );
}

function hex(ch: string): string {
  return (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
}
