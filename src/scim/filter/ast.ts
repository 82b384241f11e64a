/**
 * The SCIM filter AST (RFC 7644 §3.4.2.2) and PATCH path shape (RFC 7644 §3.5.2).
 * Other modules (the SQL compiler, PATCH) code against these types: keep them stable.
 */

export type CompareOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
export type FilterValue = string | number | boolean | null;

/** An attribute path: optional schema URN, attribute name, optional sub-attribute. Names keep the case the client sent; lookups are case-insensitive elsewhere. */
export interface AttrPath {
  urn?: string;
  attr: string;
  sub?: string;
}

export type Filter =
  | { op: "compare"; path: AttrPath; operator: CompareOp; value: FilterValue }
  | { op: "present"; path: AttrPath }
  | { op: "and"; left: Filter; right: Filter }
  | { op: "or"; left: Filter; right: Filter }
  | { op: "not"; filter: Filter }
  /**
   * attr[valFilter] — a value filter on a multi-valued attribute. Paths inside `filter` are
   * relative to one element (`type`, `value`).
   *
   * `then` is set when the client wrote `attr[...].sub op value`, which RFC 7644's filter
   * grammar does not have but Entra ID sends for email matching
   * (`emails[type eq "work"].value eq "x"`). It is the comparison (or `pr`) applied to the
   * sub-attribute of the *same* element that matched `filter`, written with the absolute path
   * `{ attr: "emails", sub: "value" }`: both conditions must hold for one element, which is
   * what Entra means and is stricter than `emails.type eq "work" and emails.value eq "x"`
   * (that could be satisfied by two different emails).
   */
  | { op: "valuePath"; path: AttrPath; filter: Filter; then?: Filter };

/** A PATCH path (RFC 7644 §3.5.2): attrPath, or valuePath with optional .subAttr. */
export interface PatchPath {
  path: AttrPath;
  valueFilter?: Filter;
  subAttr?: string;
}
