/**
 * D1's production limits that local D1 does not enforce (../shared/PRODUCTION-LIMITS.md,
 * from Cloudflare's D1 limits page), as checks the counting env runs on every statement.
 * Each returns undefined when the statement is within the limits, else what it broke.
 */

/** A string or BLOB value, or a row, may not pass this many bytes. */
export const MAX_VALUE_BYTES = 2_000_000;
export const MAX_ROW_BYTES = 2_000_000;
/** One statement's SQL text. */
export const MAX_STATEMENT_BYTES = 100_000;
/** Arguments of one SQL function call (`json_object(…)`, `coalesce(…)`). */
export const MAX_FUNCTION_ARGUMENTS = 32;
/** What one statement may return, as the sum of its rows' sizes. */
export const MAX_RESULT_BYTES = 50_000_000;

const encoder = new TextEncoder();

/** Bytes of a value as D1 stores it: UTF-8 text, BLOB bytes, 8 per number. */
function valueBytes(value: unknown): number {
  if (typeof value === "string") {
    // A UTF-16 unit is at most 3 UTF-8 bytes: only count exactly when that could matter.
    return value.length * 3 < MAX_VALUE_BYTES ? value.length : encoder.encode(value).byteLength;
  }
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value === null || value === undefined) return 1;
  return 8;
}

/** Words that precede a parenthesis without being a function call. */
const NOT_FUNCTIONS = new Set(
  "in values exists as from join on where and or not select then else when by is over using into set case returning with recursive table".split(" "),
);

/** The most arguments any function call in `sql` takes (a scan that skips string literals). */
export function maxFunctionArguments(sql: string): { name: string; count: number } {
  const stack: { name: string | undefined; commas: number; empty: boolean }[] = [];
  let best = { name: "", count: 0 };
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '"' || ch === "`") {
      const end = sql.indexOf(ch, i + 1);
      if (end < 0) break;
      // A quoted identifier right before "(" is a table or column list, not a call.
      i = end;
      continue;
    }
    const top = stack.at(-1);
    if (ch === "(") {
      const word = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(sql.slice(Math.max(0, i - 40), i))?.[1];
      const before = sql.slice(0, i).trimEnd();
      const quoted = before.endsWith('"') || before.endsWith("`");
      const name = word && !quoted && !NOT_FUNCTIONS.has(word.toLowerCase()) ? word : undefined;
      stack.push({ name, commas: 0, empty: true });
    } else if (ch === ")") {
      const frame = stack.pop();
      if (frame?.name !== undefined) {
        const count = frame.empty ? 0 : frame.commas + 1;
        if (count > best.count) best = { name: frame.name, count };
      }
    } else if (top) {
      if (ch === ",") top.commas++;
      if (ch !== undefined && !/\s/.test(ch)) top.empty = false;
    }
  }
  return best;
}

/** Checks a statement as it is prepared and bound: its text, its function calls, its values. */
export function statementViolation(sql: string, params: readonly unknown[]): string | undefined {
  const sqlBytes = encoder.encode(sql).byteLength;
  if (sqlBytes > MAX_STATEMENT_BYTES) return `D1 statements are at most ${MAX_STATEMENT_BYTES} bytes; this one is ${sqlBytes}`;
  const call = maxFunctionArguments(sql);
  if (call.count > MAX_FUNCTION_ARGUMENTS) {
    return `D1 SQL functions take at most ${MAX_FUNCTION_ARGUMENTS} arguments; ${call.name}() here takes ${call.count}`;
  }
  let total = 0;
  for (const [i, value] of params.entries()) {
    const bytes = valueBytes(value);
    if (bytes > MAX_VALUE_BYTES) return `D1 values are at most ${MAX_VALUE_BYTES} bytes; parameter ${i + 1} is ${bytes}`;
    total += bytes;
  }
  // The values of one statement usually land in one row (an INSERT or UPDATE of one resource).
  if (total > MAX_ROW_BYTES) return `D1 rows are at most ${MAX_ROW_BYTES} bytes; this statement binds ${total} bytes of values`;
  return undefined;
}

/** Checks what a statement returned: each value, each row, and the whole result. */
export function resultViolation(rows: readonly unknown[]): string | undefined {
  let total = 0;
  for (const [r, row] of rows.entries()) {
    const values = Array.isArray(row) ? (row as unknown[]) : typeof row === "object" && row !== null ? Object.values(row) : [row];
    let rowBytes = 0;
    for (const value of values) {
      const bytes = valueBytes(value);
      if (bytes > MAX_VALUE_BYTES) return `D1 values are at most ${MAX_VALUE_BYTES} bytes; row ${r + 1} returned one of ${bytes}`;
      rowBytes += bytes;
    }
    if (rowBytes > MAX_ROW_BYTES) return `D1 rows are at most ${MAX_ROW_BYTES} bytes; row ${r + 1} returned is ${rowBytes}`;
    total += rowBytes;
    if (total > MAX_RESULT_BYTES) return `D1 results are at most ${MAX_RESULT_BYTES} bytes; this one passes it at row ${r + 1}`;
  }
  return undefined;
}
