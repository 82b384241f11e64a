/** Public API of the SCIM filter module (RFC 7644 §3.4.2.2 filters, §3.5.2 PATCH paths). */

export type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from "./ast";
export { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseAttrPath, parseFilter, parsePatchPath } from "./parser";
export { printAttrPath, printFilter, printValue } from "./print";
export { matchesFilter } from "./evaluate";
export type { EvaluateOptions } from "./evaluate";
