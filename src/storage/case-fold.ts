/**
 * Case-insensitive matching (RFC 7643 §2.2, `caseExact: false`) in SQL, whatever the script.
 * SQLite's lower() folds ASCII only, so `lower(familyName) = 'müller'` never finds "MÜLLER".
 * SQLite (and D1) has no Unicode lower(), but a filter knows the value it looks for: only the
 * characters that fold to one of the value's own non-ASCII characters can take part in a
 * match, so the column is folded with lower() for ASCII and one replace() for each of those
 * characters. Characters left unfolded fold to nothing in the value, so they cannot be part of
 * a match either way: eq, co, sw and ew answer exactly as on a fully folded column.
 *
 * The fold is JavaScript's toLowerCase() per character, plus final sigma (ς) folded to σ as
 * Unicode case folding does (per character, so "ΣΑΣ" and "σας" meet). Characters whose fold is
 * ASCII (the Kelvin sign, U+212A) are matched only through a non-ASCII value.
 */
import { type SQL, sql } from "drizzle-orm";
import { scimErrors } from "../scim/errors";

/** At most this many replace() calls per comparison: under SQLite's expression depth of 100. */
const MAX_FOLDED_CHARACTERS = 32;

const FINAL_SIGMA = "ς";
const SIGMA = "σ";

function foldCharacter(character: string): string {
  return character === FINAL_SIGMA ? SIGMA : character.toLowerCase();
}

/** The folded form of a value a filter compares case-insensitively. */
export function foldCase(text: string): string {
  let folded = "";
  for (const character of text) folded += foldCharacter(character);
  return folded;
}

/** For each non-ASCII character of a fold, the characters that fold to something containing it. */
let foldedFrom: Map<string, string[]> | undefined;

function sourcesByFold(): Map<string, string[]> {
  if (foldedFrom) return foldedFrom;
  const map = new Map<string, string[]>();
  // Every cased letter lies below U+1F000 (the last are Adlam's, U+1E900–U+1E943).
  for (let code = 0x80; code < 0x1f000; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const character = String.fromCodePoint(code);
    const folded = foldCharacter(character);
    if (folded === character) continue;
    for (const part of new Set(folded)) {
      if (part.charCodeAt(0) < 0x80) continue;
      const sources = map.get(part);
      if (sources) sources.push(character);
      else map.set(part, [character]);
    }
  }
  foldedFrom = map;
  return map;
}

/**
 * `expr` folded for a comparison with `value` (already folded with foldCase): lower() for
 * ASCII, then a replace() per character that folds to one of the value's non-ASCII
 * characters. `bind` binds each replaced character and its fold (counted by the caller);
 * `nest` is told how many replace() levels the fold adds, before any is built.
 */
export function foldedFor(expr: SQL, value: string, bind: (value: string) => SQL, nest: (levels: number) => void = () => undefined): SQL {
  const sources = new Set<string>();
  for (const character of new Set(value)) {
    if (character.charCodeAt(0) < 0x80) continue;
    for (const source of sourcesByFold().get(character) ?? []) sources.add(source);
  }
  // Each replace() is one more level of SQL expression depth (the caller's budget, filter-limits.ts).
  nest(sources.size);
  if (sources.size > MAX_FOLDED_CHARACTERS) {
    throw scimErrors.invalidFilter(
      `The value ${JSON.stringify(value)} has too many letters with case variants to compare case-insensitively (at most ${MAX_FOLDED_CHARACTERS}).`,
    );
  }
  let folded = sql`lower(${expr})`;
  for (const source of sources) folded = sql`replace(${folded}, ${bind(source)}, ${bind(foldCharacter(source))})`;
  return folded;
}

/**
 * Key columns hold uniquenessKey() (NFC, then toLowerCase() of the whole string, which turns a
 * word-final Σ into ς). A substring search folds the needle per character, so both sides meet
 * on σ.
 */
export function keyedForSubstring(expr: SQL, needle: string, bind: (value: string) => SQL): SQL {
  return needle.includes(SIGMA) ? sql`replace(${expr}, ${bind(FINAL_SIGMA)}, ${bind(SIGMA)})` : expr;
}
