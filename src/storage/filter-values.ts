/**
 * The typed side of a filter comparison (RFC 7644 §3.4.2.2): the operand a filter compares,
 * and the filter's value checked against the attribute's type and normalised as stored.
 */
import type { SQL } from "drizzle-orm";
import { scimErrors } from "../scim/errors";
import type { CompareOp } from "../scim/filter";
import { type AttributeType, uniquenessKey } from "../scim/schema";
import { foldCase } from "./case-fold";

/** A scalar a filter can compare: an SQL expression, its SCIM type and case rule. */
export interface Operand {
  expr: SQL;
  type: AttributeType;
  caseExact: boolean;
  /** Set for key columns that already hold `uniquenessKey(value)` (NFC + lower case). */
  keyed?: boolean;
}

export function isSubstringSearch(operator: CompareOp): boolean {
  return operator === "co" || operator === "sw" || operator === "ew";
}

/** Checks the value's type against the attribute's and normalises it for comparison. */
export function comparable(operand: Operand, operator: CompareOp, value: string | number | boolean): string | number {
  switch (operand.type) {
    case "boolean": {
      const b = typeof value === "boolean" ? value : /^(true|false)$/i.test(String(value)) ? String(value).toLowerCase() === "true" : undefined;
      if (b === undefined) throw scimErrors.invalidFilter(`Expected true or false, got ${JSON.stringify(value)}.`);
      if (operator !== "eq" && operator !== "ne") throw scimErrors.invalidFilter(`Booleans support eq and ne only, not '${operator}'.`);
      return b ? 1 : 0;
    }
    case "integer":
    case "decimal":
      if (typeof value !== "number") throw scimErrors.invalidFilter(`Expected a number, got ${JSON.stringify(value)}.`);
      return value;
    case "dateTime": {
      const time = typeof value === "string" ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(time)) throw scimErrors.invalidFilter(`Expected a dateTime, got ${JSON.stringify(value)}.`);
      return new Date(time).toISOString();
    }
    default: {
      if (typeof value === "boolean") throw scimErrors.invalidFilter(`Expected a string, got ${value}.`);
      const text = String(value);
      if (operand.keyed) return isSubstringSearch(operator) ? foldCase(text.normalize("NFC")) : uniquenessKey(text);
      return operand.caseExact ? text : foldCase(text);
    }
  }
}
