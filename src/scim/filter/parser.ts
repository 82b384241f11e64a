/**
 * Recursive-descent parser for SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
 *
 * Grammar accepted (a superset of the RFC's ABNF, liberal where identity providers are):
 *
 *   filter    = andExpr *("or" andExpr)                      ; iterative, left-associative
 *   andExpr   = unary *("and" unary)                         ; iterative, left-associative
 *   unary     = "not" "(" filter ")" / "not" unary / "(" filter ")" / attrExp
 *   attrExp   = attrPath "pr" / attrPath compareOp compValue
 *             / attrPath "[" filter "]" [ "." subAttr ( "pr" / compareOp compValue ) ]
 *   patchPath = attrPath [ "[" filter "]" [ "." subAttr ] ]
 *
 * Keywords and operators are case-insensitive (RFC 7644 §3.4.2.2); attribute names keep the
 * client's case. Precedence is not > and > or. Liberal extensions, each forced by an IdP:
 *   - `not` without parentheses (`not title pr`) binds to the next unary term;
 *   - an unquoted word value (`externalId eq jyoung`, Entra ID's documentation) is a string;
 *   - `attr[filter].sub op value` (Entra ID's email matching), see `then` in ast.ts.
 *
 * Safety: input is capped at MAX_FILTER_LENGTH characters, and every construct that recurses
 * (parentheses, `not`, value filters) checks MAX_FILTER_DEPTH *before* recursing, while
 * and/or chains are loops, so no input can overflow the stack.
 */

import { fail, ok, scimErrors } from "../errors";
import type { Result, ScimError } from "../errors";
import type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from "./ast";
import { tokenize } from "./lexer";
import type { Token } from "./lexer";

/** Longest filter or PATCH path accepted, in UTF-16 code units. */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of parentheses, `not` and value filters accepted. `not (…)` counts once. */
export const MAX_FILTER_DEPTH = 32;

const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);
const OPERATOR_LIST = "eq, ne, co, sw, ew, gt, ge, lt, le, pr";

/** RFC 7643 §2.1 ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA; plus `$ref` (§2.3.7). */
const ATTR_NAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/;
/**
 * The schema URI in front of an attribute (RFC 7644 §3.10, `[URI ":"] ATTRNAME`): a scheme,
 * a colon, then URI characters. Quotes are left out on purpose so `x' OR 1=1--`-style text can
 * never pass as a path.
 */
const SCHEMA_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+$/;
/** RFC 8259 §6 number grammar; a word that matches is a number, otherwise a bare string. */
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Thrown inside the parser only, caught at the two entry points; never escapes. */
class SyntaxFailure extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = "SyntaxFailure";
  }
}

/** Short, printable description of a token for error details (user text is quoted and cut). */
function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "the end of the input";
    case "string":
      return "a string";
    case "word":
      return JSON.stringify(t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text);
    case "lparen":
      return "'('";
    case "rparen":
      return "')'";
    case "lbracket":
      return "'['";
    case "rbracket":
      return "']'";
  }
}

function isKeyword(t: Token, keyword: string): boolean {
  return t.kind === "word" && t.text.toLowerCase() === keyword;
}

/**
 * Splits `[URI ":"] ATTRNAME ["." subAttr]`. The URI is everything before the *last* colon,
 * and sub-attributes are looked for only after it, because schema URNs contain dots
 * (`…:core:2.0:User:name.givenName`).
 */
export function parseAttrPath(text: string): AttrPath | string {
  const colon = text.lastIndexOf(":");
  const urn = colon >= 0 ? text.slice(0, colon) : undefined;
  const rest = colon >= 0 ? text.slice(colon + 1) : text;
  if (urn !== undefined && !SCHEMA_URI.test(urn)) return `invalid schema URI ${JSON.stringify(urn)}`;
  const dot = rest.indexOf(".");
  const attr = dot >= 0 ? rest.slice(0, dot) : rest;
  const sub = dot >= 0 ? rest.slice(dot + 1) : undefined;
  if (!ATTR_NAME.test(attr)) return `invalid attribute name ${JSON.stringify(attr)}`;
  if (sub !== undefined && !ATTR_NAME.test(sub)) return `invalid sub-attribute name ${JSON.stringify(sub)}`;
  return {
    ...(urn !== undefined ? { urn } : {}),
    attr,
    ...(sub !== undefined ? { sub } : {}),
  };
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(ahead = 0): Token {
    // The token list always ends with "eof"; reading past it keeps answering "eof".
    const t = this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)];
    if (t === undefined) throw new SyntaxFailure("Internal error: empty token list");
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.index += 1;
    return t;
  }

  private expect(kind: Token["kind"], what: string, context: string): Token {
    const t = this.peek();
    if (t.kind !== kind) {
      throw new SyntaxFailure(`Expected ${what} ${context} at position ${t.pos} but found ${describe(t)}`);
    }
    return this.next();
  }

  /** Checks the nesting bound before descending one level. */
  private enter(depth: number, at: Token): number {
    if (depth + 1 > MAX_FILTER_DEPTH) {
      throw new SyntaxFailure(`Filter nests deeper than ${MAX_FILTER_DEPTH} levels at position ${at.pos}`);
    }
    return depth + 1;
  }

  /** Whole input as a filter. */
  parseWholeFilter(): Filter {
    if (this.peek().kind === "eof") throw new SyntaxFailure("Expected a filter at position 0 but the filter is empty");
    const f = this.parseOr(0, false);
    const t = this.peek();
    if (t.kind !== "eof") {
      throw new SyntaxFailure(`Expected 'and', 'or' or the end of the filter at position ${t.pos} but found ${describe(t)}`);
    }
    return f;
  }

  /** Whole input as a PATCH path (RFC 7644 §3.5.2 PATH). */
  parseWholePatchPath(): PatchPath {
    const first = this.peek();
    if (first.kind === "eof") throw new SyntaxFailure("Expected an attribute path at position 0 but the path is empty");
    const path = this.parsePathWord(first);
    this.next();
    let result: PatchPath = { path };
    if (this.peek().kind === "lbracket") {
      const { filter, close } = this.parseValueFilter(path, 0);
      result = { path, valueFilter: filter };
      const sub = this.takeAdjacentSubAttr(close);
      if (sub !== undefined) result.subAttr = sub.name;
    }
    const t = this.peek();
    if (t.kind !== "eof") {
      throw new SyntaxFailure(`Expected the end of the path at position ${t.pos} but found ${describe(t)}`);
    }
    return result;
  }

  private parseOr(depth: number, inValueFilter: boolean): Filter {
    let left = this.parseAnd(depth, inValueFilter);
    while (isKeyword(this.peek(), "or")) {
      this.next();
      const right = this.parseAnd(depth, inValueFilter);
      left = { op: "or", left, right };
    }
    return left;
  }

  private parseAnd(depth: number, inValueFilter: boolean): Filter {
    let left = this.parseUnary(depth, inValueFilter);
    while (isKeyword(this.peek(), "and")) {
      this.next();
      const right = this.parseUnary(depth, inValueFilter);
      left = { op: "and", left, right };
    }
    return left;
  }

  private parseUnary(depth: number, inValueFilter: boolean): Filter {
    const t = this.peek();
    if (t.kind === "lparen") {
      const inner = this.enter(depth, t);
      this.next();
      const f = this.parseOr(inner, inValueFilter);
      this.expect("rparen", "')'", `to close the '(' at position ${t.pos}`);
      return f;
    }
    if (isKeyword(t, "not") && this.notIsOperator()) {
      const inner = this.enter(depth, t);
      this.next();
      const open = this.peek();
      if (open.kind === "lparen") {
        // `not (…)` is one level, so printing `not x` as `not (x)` never deepens a filter.
        this.next();
        const f = this.parseOr(inner, inValueFilter);
        this.expect("rparen", "')'", `to close the '(' at position ${open.pos}`);
        return { op: "not", filter: f };
      }
      return { op: "not", filter: this.parseUnary(inner, inValueFilter) };
    }
    return this.parseAttrExp(depth, inValueFilter);
  }

  /**
   * `not` is also a valid attribute name. It is the logical operator unless the next word is
   * an operator (`not eq "x"`, `not pr`) or the next token cannot start a term (`not[…]`).
   */
  private notIsOperator(): boolean {
    const after = this.peek(1);
    if (after.kind === "lparen") return true;
    if (after.kind !== "word") return false;
    const word = after.text.toLowerCase();
    return word !== "pr" && !COMPARE_OPS.has(word);
  }

  private parseAttrExp(depth: number, inValueFilter: boolean): Filter {
    const t = this.peek();
    if (t.kind !== "word") {
      throw new SyntaxFailure(`Expected an attribute path, '(' or 'not' at position ${t.pos} but found ${describe(t)}`);
    }
    const path = this.parsePathWord(t);
    this.next();
    if (this.peek().kind !== "lbracket") return this.parseCondition(path, t);

    if (inValueFilter) {
      throw new SyntaxFailure(`Value filters cannot be nested: unexpected '[' at position ${this.peek().pos}`);
    }
    const { filter, close } = this.parseValueFilter(path, depth);
    const sub = this.takeAdjacentSubAttr(close);
    if (sub === undefined) return { op: "valuePath", path, filter };
    const subPath: AttrPath = { ...(path.urn !== undefined ? { urn: path.urn } : {}), attr: path.attr, sub: sub.name };
    return { op: "valuePath", path, filter, then: this.parseCondition(subPath, sub.token) };
  }

  /** `[` filter `]` after `path`; paths inside are relative to one element. */
  private parseValueFilter(path: AttrPath, depth: number): { filter: Filter; close: Token } {
    const open = this.next();
    if (path.sub !== undefined) {
      throw new SyntaxFailure(
        `Expected '[' right after an attribute name at position ${open.pos}; a sub-attribute goes after ']'`,
      );
    }
    const inner = this.enter(depth, open);
    const filter = this.parseOr(inner, true);
    const close = this.peek();
    if (close.kind !== "rbracket") {
      throw new SyntaxFailure(
        `Expected ']' (closing the '[' at position ${open.pos}), 'and' or 'or' at position ${close.pos} but found ${describe(close)}`,
      );
    }
    this.next();
    return { filter, close };
  }

  /** `.subAttr` written directly after `]` (RFC 7644 §3.5.2 `valuePath [subAttr]`). */
  private takeAdjacentSubAttr(close: Token): { name: string; token: Token } | undefined {
    const t = this.peek();
    if (t.kind !== "word" || t.pos !== close.end || !t.text.startsWith(".")) return undefined;
    const name = t.text.slice(1);
    if (!ATTR_NAME.test(name)) {
      throw new SyntaxFailure(`Expected a sub-attribute name after ']' at position ${t.pos} but found ${describe(t)}`);
    }
    this.next();
    return { name, token: t };
  }

  /** The operator and value after an attribute path. */
  private parseCondition(path: AttrPath, pathToken: Token): Filter {
    const t = this.peek();
    const shown = pathToken.kind === "word" ? ` after ${describe(pathToken)}` : "";
    if (t.kind !== "word") {
      throw new SyntaxFailure(`Expected an operator (${OPERATOR_LIST})${shown} at position ${t.pos} but found ${describe(t)}`);
    }
    const operator = t.text.toLowerCase();
    if (operator === "pr") {
      this.next();
      return { op: "present", path };
    }
    if (!COMPARE_OPS.has(operator)) {
      throw new SyntaxFailure(`Unknown operator ${describe(t)} at position ${t.pos}; expected one of ${OPERATOR_LIST}`);
    }
    this.next();
    return { op: "compare", path, operator: operator as CompareOp, value: this.parseValue(t) };
  }

  /** compValue (RFC 7644 §3.4.2.2): JSON string, number, true/false/null, or a bare word. */
  private parseValue(opToken: Token & { kind: "word" }): FilterValue {
    const t = this.peek();
    const expected = `Expected a value after '${opToken.text}' at position ${t.pos}`;
    if (t.kind === "string") {
      this.next();
      return t.value;
    }
    if (t.kind !== "word") throw new SyntaxFailure(`${expected} but found ${describe(t)}`);
    const lower = t.text.toLowerCase();
    // A logical keyword here means the value is missing (`userName eq and …`), not the word "and".
    if (lower === "and" || lower === "or" || lower === "not") {
      throw new SyntaxFailure(`${expected} but found ${describe(t)}`);
    }
    this.next();
    if (lower === "true") return true;
    if (lower === "false") return false;
    if (lower === "null") return null;
    if (JSON_NUMBER.test(t.text)) {
      const n = Number(t.text);
      if (!Number.isFinite(n)) throw new SyntaxFailure(`Number out of range at position ${t.pos}`);
      return n;
    }
    // Entra ID's documentation writes `externalId eq jyoung`: take an unquoted word as a string.
    // Not one with quotes or backslashes, though: `'x'` is a client quoting wrongly, and
    // silently matching the literal `'x'` would hide that.
    if (/['\\`]/.test(t.text)) {
      throw new SyntaxFailure(`${expected} but found ${describe(t)}; strings must be written in double quotes`);
    }
    return t.text;
  }

  private parsePathWord(t: Token): AttrPath {
    if (t.kind !== "word") {
      throw new SyntaxFailure(`Expected an attribute path at position ${t.pos} but found ${describe(t)}`);
    }
    const path = parseAttrPath(t.text);
    if (typeof path === "string") {
      throw new SyntaxFailure(`Expected an attribute path at position ${t.pos} but found ${describe(t)}: ${path}`);
    }
    return path;
  }
}

function run<T>(input: unknown, kind: "filter" | "path", body: (p: Parser) => T, toError: (d: string) => ScimError): Result<T> {
  if (typeof input !== "string") return fail(toError(`The ${kind} must be a string`));
  if (input.length > MAX_FILTER_LENGTH) {
    return fail(toError(`The ${kind} is ${input.length} characters long; at most ${MAX_FILTER_LENGTH} are accepted`));
  }
  const lexed = tokenize(input);
  if (!lexed.ok) return fail(toError(lexed.error.message));
  try {
    return ok(body(new Parser(lexed.tokens)));
  } catch (e) {
    if (e instanceof SyntaxFailure) return fail(toError(e.detail));
    throw e;
  }
}

/** Parses a `filter` query parameter. Every failure is 400 `invalidFilter` (RFC 7644 §3.12). */
export function parseFilter(input: string): Result<Filter> {
  return run(input, "filter", (p) => p.parseWholeFilter(), scimErrors.invalidFilter);
}

/** Parses a PATCH operation's `path`. Every failure is 400 `invalidPath` (RFC 7644 §3.5.2, §3.12). */
export function parsePatchPath(input: string): Result<PatchPath> {
  return run(input, "path", (p) => p.parseWholePatchPath(), scimErrors.invalidPath);
}
