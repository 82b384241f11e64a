/**
 * Tokeniser for SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2).
 *
 * It only splits: a "word" is any run of characters other than whitespace, parentheses,
 * brackets and double quotes. Whether a word is an attribute path, an operator, a keyword
 * or an unquoted value depends on where it stands, so the parser decides. That keeps URNs
 * such as `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName` (colons *and* dots) in
 * one token, and lets the parser accept attributes that happen to be called `not` or `and`.
 */

type PunctuationKind = "lparen" | "rparen" | "lbracket" | "rbracket";

export type Token =
  | { kind: "word"; text: string; pos: number; end: number }
  | { kind: "string"; value: string; pos: number; end: number }
  | { kind: PunctuationKind | "eof"; pos: number; end: number };

/** A tokenising failure; the parser turns it into the right SCIM error type. */
export interface LexError {
  pos: number;
  message: string;
}

export type LexResult = { ok: true; tokens: Token[] } | { ok: false; error: LexError };

const PUNCTUATION: ReadonlyMap<string, PunctuationKind> = new Map([
  ["(", "lparen"],
  [")", "rparen"],
  ["[", "lbracket"],
  ["]", "rbracket"],
]);

/** RFC 7644 uses a single SP between tokens; any run of ASCII whitespace is accepted. */
function isSpace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r";
}

function isWordChar(ch: string): boolean {
  return !isSpace(ch) && ch !== '"' && !PUNCTUATION.has(ch);
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * Reads a JSON string (RFC 7644 §3.4.2.2: compValue strings are JSON strings, RFC 8259 §7)
 * starting at the opening quote. Escapes are decoded by hand, one UTF-16 unit per `\uXXXX`,
 * so surrogate pairs and even lone surrogates survive a print/parse round trip.
 */
function readString(input: string, start: number): { value: string; end: number } | LexError {
  let value = "";
  let i = start + 1;
  while (i < input.length) {
    const ch = input.charAt(i);
    if (ch === '"') return { value, end: i + 1 };
    if (ch === "\\") {
      const esc = input.charAt(i + 1);
      if (esc === "u") {
        const hex = input.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
          return { pos: i, message: `Expected four hex digits after '\\u' at position ${i}` };
        }
        value += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const decoded = SIMPLE_ESCAPES[esc];
      if (decoded === undefined) {
        return {
          pos: i,
          message: `Invalid escape in string at position ${i}; expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`,
        };
      }
      value += decoded;
      i += 2;
      continue;
    }
    // JSON forbids raw control characters inside strings; a client must escape them.
    if (ch.charCodeAt(0) < 0x20) {
      return { pos: i, message: `Unescaped control character in string at position ${i}` };
    }
    value += ch;
    i += 1;
  }
  return { pos: start, message: `Unterminated string starting at position ${start}; expected a closing '"'` };
}

export function tokenize(input: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input.charAt(i);
    if (isSpace(ch)) {
      i += 1;
      continue;
    }
    const punctuation = PUNCTUATION.get(ch);
    if (punctuation !== undefined) {
      tokens.push({ kind: punctuation, pos: i, end: i + 1 });
      i += 1;
      continue;
    }
    if (ch === '"') {
      const read = readString(input, i);
      if ("message" in read) return { ok: false, error: read };
      tokens.push({ kind: "string", value: read.value, pos: i, end: read.end });
      i = read.end;
      continue;
    }
    const start = i;
    while (i < input.length && isWordChar(input.charAt(i))) i += 1;
    tokens.push({ kind: "word", text: input.slice(start, i), pos: start, end: i });
  }
  tokens.push({ kind: "eof", pos: input.length, end: input.length });
  return { ok: true, tokens };
}
