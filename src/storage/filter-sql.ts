/**
 * Compiles a parsed SCIM filter (RFC 7644 §3.4.2.2) into a parameterised SQL condition.
 * Attribute paths resolve through the schema definitions to an allow-list of indexed columns
 * or JSON paths built from canonical names; input never becomes SQL text, only bound values.
 * `co`/`sw`/`ew` use instr()/substr(), not LIKE: `%` and `_` stay literal and D1's 50-byte
 * LIKE pattern limit never applies.
 */
import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { ScimError, scimErrors } from "../scim/errors";
import { type AttrPath, type CompareOp, type Filter, type FilterValue, printAttrPath } from "../scim/filter";
import {
  type AttributeDefinition,
  type AttributeType,
  findAttribute,
  type ResourceTypeName,
  resourceSchemas,
  sameUrn,
  subAttributeOf,
  uniquenessKey,
} from "../scim/schema";
import { foldCase, foldedFor, keyedForSubstring } from "./case-fold";
import { FilterLimits, LEAF_SQL_DEPTH } from "./filter-limits";
import { qualified } from "./qualified";
import { groupMembers, groups, userEmails, users } from "./schema";

export { MAX_FILTER_PARAMETERS, MAX_FILTER_SQL_DEPTH } from "./filter-limits";

/** A scalar a filter can compare: an SQL expression, its SCIM type and case rule. */
interface Operand {
  expr: SQL;
  type: AttributeType;
  caseExact: boolean;
  /** Set for key columns that already hold `uniquenessKey(value)` (NFC + lower case). */
  keyed?: boolean;
}

interface Context {
  resourceType: ResourceTypeName;
  tenantId: string;
  /** Bound parameters and SQL depth so far (see filter-limits.ts). */
  limits: FilterLimits;
  /** Only the index lookups of a value filter, not the element check on the document (compileIndexLookup). */
  indexOnly?: boolean;
}

const tables = { User: users, Group: groups } as const;

/** Throws ScimError(invalidFilter); the caller turns it into the response. */
export function compileFilter(resourceType: ResourceTypeName, tenantId: string, filter: Filter): SQL {
  const ctx: Context = { resourceType, tenantId, limits: new FilterLimits() };
  const compiled = condition(ctx, filter);
  ctx.limits.checkRendered(compiled);
  return compiled;
}

/**
 * A shared filter's indexed part (filter-cost.ts indexedPart) as SQL that reads no document:
 * the scan budget counts its matches from the indexes alone (an email's user_emails rows).
 */
export function compileIndexLookup(resourceType: ResourceTypeName, tenantId: string, filter: Filter): SQL {
  return condition({ resourceType, tenantId, limits: new FilterLimits(), indexOnly: true }, filter);
}

function bind(ctx: Context, value: string | number): SQL {
  ctx.limits.countParameter();
  return sql`${value}`;
}

function condition(ctx: Context, filter: Filter): SQL {
  switch (filter.op) {
    case "and":
    case "or":
      return ctx.limits.chain(filter, (term) => condition(ctx, term));
    case "not":
      return ctx.limits.deeper(2, () => negate(condition(ctx, filter.filter)));
    case "present":
    case "compare":
      return attributeCondition(ctx, filter);
    case "valuePath":
      return valuePathCondition(ctx, filter.path, filter.filter, filter.then);
  }
}

type Leaf = Extract<Filter, { op: "compare" | "present" }>;

function attributeCondition(ctx: Context, leaf: Leaf): SQL {
  const { path } = leaf;
  if (path.attr.toLowerCase() === "meta") return leafOn(ctx, metaOperand(ctx, path), leaf);
  const match = lookup(ctx, path);
  if (match.attribute.multiValued) {
    // `emails eq "x"` and `emails.value eq "x"` both mean the element's value (RFC 7644 §3.4.2.2).
    const sub = path.sub ?? "value";
    const elementFilter: Leaf = { ...leaf, path: { attr: sub } };
    return valuePathCondition(ctx, path, elementFilter, undefined);
  }
  return leafOn(ctx, scalarOperand(ctx, match.schemaId, match.attribute, match.sub), leaf);
}

/** `attr[filter]` (and Entra's `attr[filter].sub op value`): one element satisfies everything. */
function valuePathCondition(ctx: Context, path: AttrPath, inner: Filter, then: Filter | undefined): SQL {
  const match = lookup(ctx, { ...path, sub: undefined });
  if (!match.attribute.multiValued || match.attribute.type !== "complex") {
    throw scimErrors.invalidFilter(`'${path.attr}' is not a multi-valued complex attribute; it takes no [filter].`);
  }
  const relative = then ? and(inner, relativeTo(then)) : inner;
  const name = match.attribute.name;
  if (ctx.resourceType === "Group" && name === "members") return membershipCondition(ctx, relative, "group");
  if (ctx.resourceType === "User" && name === "groups") return membershipCondition(ctx, relative, "user");

  const element = (sub: string): Operand => {
    const definition = subAttributeOf(match.attribute, sub);
    if (!definition) throw scimErrors.invalidFilter(`'${name}' has no sub-attribute '${sub}'.`);
    return {
      expr: sql`json_extract(je.value, ${bind(ctx, jsonPath([definition.name]))})`,
      type: definition.type,
      caseExact: definition.caseExact,
    };
  };
  const each = sql`json_each(${qualified(tables[ctx.resourceType].doc)}, ${bind(ctx, jsonPath(documentPath(ctx, match.schemaId, name)))}) AS je`;
  const exists = sql`EXISTS (SELECT 1 FROM ${each} WHERE ${ctx.limits.insideJsonEach(() => elementCondition(ctx, relative, element))})`;
  const email = ctx.resourceType === "User" && name === "emails" ? requiredEmail(relative) : undefined;
  if (email === undefined) return exists;
  // Every email is also in user_emails: an indexed pre-filter keeps this O(log n) per tenant.
  // By seq (the rowid): the page then reads its matches by rowid, already in page order, so
  // SQLite has no reason to walk users_tenant_seq to avoid a sort.
  const indexed = sql`${qualified(users.seq)} IN (SELECT "email_user"."seq" FROM ${userEmails} JOIN ${users} AS "email_user" ON "email_user"."tenant_id" = ${qualified(userEmails.tenantId)} AND "email_user"."id" = ${qualified(userEmails.userId)} WHERE ${qualified(userEmails.tenantId)} = ${bind(ctx, ctx.tenantId)} AND ${qualified(userEmails.valueKey)} = ${bind(ctx, email)})`;
  return ctx.indexOnly ? indexed : sql`(${indexed} AND ${exists})`;
}

/** Conditions inside a value filter: paths name sub-attributes of one element. */
function elementCondition(ctx: Context, filter: Filter, element: (sub: string) => Operand): SQL {
  switch (filter.op) {
    case "and":
    case "or":
      return ctx.limits.chain(filter, (term) => elementCondition(ctx, term, element));
    case "not":
      return ctx.limits.deeper(2, () => negate(elementCondition(ctx, filter.filter, element)));
    case "valuePath":
      throw scimErrors.invalidFilter("Value filters cannot be nested.");
    case "present":
    case "compare":
      if (filter.path.sub !== undefined || filter.path.urn !== undefined) {
        throw scimErrors.invalidFilter(`Inside [...], name a sub-attribute only, not '${filter.path.attr}.${filter.path.sub ?? ""}'.`);
      }
      return leafOn(ctx, element(filter.path.attr), filter);
  }
}

/**
 * Group `members[…]` / user `groups[…]`: answered from the membership table, never from a
 * document. Only `value eq "id"` (combined with and/or) is meaningful there.
 */
function membershipCondition(ctx: Context, filter: Filter, side: "group" | "user"): SQL {
  switch (filter.op) {
    case "and":
    case "or":
      return ctx.limits.chain(filter, (term) => membershipCondition(ctx, term, side));
    case "not":
      return ctx.limits.deeper(2, () => negate(membershipCondition(ctx, filter.filter, side)));
    case "present":
    case "compare": {
      ctx.limits.requireDepth(LEAF_SQL_DEPTH);
      const isValue = filter.path.attr.toLowerCase() === "value" && filter.path.sub === undefined;
      const owner =
        side === "group"
          ? sql`${groupMembers.tenantId} = ${qualified(groups.tenantId)} AND ${groupMembers.groupId} = ${qualified(groups.id)}`
          : sql`${groupMembers.tenantId} = ${qualified(users.tenantId)} AND ${groupMembers.memberId} = ${qualified(users.id)}`;
      if (isValue && filter.op === "present") {
        return sql`EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${owner})`;
      }
      if (isValue && filter.op === "compare" && filter.operator === "eq" && typeof filter.value === "string") {
        if (side === "group") return groupsOfMember(ctx, filter.value);
        // A user's `groups.value eq`: a scan within the budget (filter-cost.ts); a group's members are read at GET /Groups/{id}.
        return sql`EXISTS (SELECT 1 FROM ${groupMembers} WHERE ${owner} AND ${groupMembers.groupId} = ${bind(ctx, filter.value)})`;
      }
      throw scimErrors.invalidFilter(`Membership can only be filtered with value eq "<id>" or value pr.`);
    }
    case "valuePath":
      throw scimErrors.invalidFilter("Value filters cannot be nested.");
  }
}

/**
 * `members[value eq "id"]`: the member's groups through group_members_member, then those groups
 * by seq (the rowid), so the page reads them in page order and never walks the tenant's groups
 * (filter-cost.ts counts this filter as narrowing).
 */
function groupsOfMember(ctx: Context, memberId: string): SQL {
  return sql`${qualified(groups.seq)} IN (SELECT "member_group"."seq" FROM ${groupMembers} JOIN ${groups} AS "member_group" ON "member_group"."tenant_id" = ${qualified(groupMembers.tenantId)} AND "member_group"."id" = ${qualified(groupMembers.groupId)} WHERE ${qualified(groupMembers.tenantId)} = ${bind(ctx, ctx.tenantId)} AND ${qualified(groupMembers.memberId)} = ${bind(ctx, memberId)})`;
}

function leafOn(ctx: Context, operand: Operand, leaf: Leaf): SQL {
  ctx.limits.requireDepth(LEAF_SQL_DEPTH);
  if (leaf.op === "present") {
    const notEmpty = operand.type === "string" || operand.type === "reference" ? sql` AND ${operand.expr} <> ''` : sql``;
    return sql`(${operand.expr} IS NOT NULL${notEmpty})`;
  }
  return comparison(ctx, operand, leaf.operator, leaf.value);
}

function comparison(ctx: Context, operand: Operand, operator: CompareOp, raw: FilterValue): SQL {
  if (raw === null) {
    if (operator === "eq") return sql`(${operand.expr} IS NULL)`;
    if (operator === "ne") return sql`(${operand.expr} IS NOT NULL)`;
    throw scimErrors.invalidFilter(`'${operator}' cannot compare with null.`);
  }
  const value = comparable(operand, operator, raw);
  const expr = caseFolded(ctx, operand, operator, value);
  // Bare comparisons, so SQLite can use an index on the column; NULL (absent) reads as false here.
  switch (operator) {
    case "eq":
      return sql`${expr} = ${bind(ctx, value)}`;
    case "ne":
      return negate(sql`${expr} = ${bind(ctx, value)}`);
    case "gt":
      return sql`${expr} > ${bind(ctx, value)}`;
    case "ge":
      return sql`${expr} >= ${bind(ctx, value)}`;
    case "lt":
      return sql`${expr} < ${bind(ctx, value)}`;
    case "le":
      return sql`${expr} <= ${bind(ctx, value)}`;
    case "co":
    case "sw":
    case "ew": {
      if (typeof value !== "string") throw scimErrors.invalidFilter(`'${operator}' compares strings only.`);
      if (value === "") return sql`(${operand.expr} IS NOT NULL)`;
      if (operator === "co") return sql`instr(${expr}, ${bind(ctx, value)}) > 0`;
      if (operator === "sw") return sql`instr(${expr}, ${bind(ctx, value)}) = 1`;
      // substr() counts characters, as [...value] does (code points).
      return sql`substr(${expr}, -${bind(ctx, [...value].length)}) = ${bind(ctx, value)}`;
    }
  }
}

/** The operand as compared with `value`: folded when the attribute is not caseExact (case-fold.ts). */
function caseFolded(ctx: Context, operand: Operand, operator: CompareOp, value: string | number): SQL {
  if (operand.caseExact || typeof value !== "string") return operand.expr;
  const binder = (v: string) => bind(ctx, v);
  if (operand.keyed) return isSubstringSearch(operator) ? keyedForSubstring(operand.expr, value, binder) : operand.expr;
  // The fold nests one replace() per letter with case variants: they count toward SQLite's depth.
  return foldedFor(operand.expr, value, binder, (levels) => ctx.limits.requireDepth(LEAF_SQL_DEPTH + levels));
}

function isSubstringSearch(operator: CompareOp): boolean {
  return operator === "co" || operator === "sw" || operator === "ew";
}

/**
 * `not`: a comparison on an absent attribute is NULL, and NOT NULL is still NULL (no match);
 * COALESCE makes "not equal to x" include the users who have no value at all.
 */
function negate(condition: SQL): SQL {
  return sql`(NOT COALESCE(${condition}, 0))`;
}

/** Checks the value's type against the attribute's and normalises it for comparison. */
function comparable(operand: Operand, operator: CompareOp, value: string | number | boolean): string | number {
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

interface Resolved {
  schemaId: string;
  attribute: AttributeDefinition;
  sub?: AttributeDefinition;
}

function lookup(ctx: Context, path: AttrPath): Resolved {
  const match = findAttribute(ctx.resourceType, path);
  if (!match) throw scimErrors.invalidFilter(`Unknown attribute '${printAttrPath(path)}' for ${ctx.resourceType}.`);
  const returnedNever = match.attribute.returned === "never" || match.sub?.returned === "never";
  if (returnedNever) throw scimErrors.invalidFilter(`'${printAttrPath(path)}' cannot be used in a filter.`);
  return { schemaId: match.schema.id, attribute: match.attribute, ...(match.sub ? { sub: match.sub } : {}) };
}

/** Indexed columns first; anything else is read from the JSON document. */
function scalarOperand(ctx: Context, schemaId: string, attribute: AttributeDefinition, sub?: AttributeDefinition): Operand {
  const table = tables[ctx.resourceType];
  const column = (expr: SQLiteColumn, keyed = false): Operand => ({
    expr: sql`${expr}`,
    type: attribute.type,
    caseExact: attribute.caseExact,
    keyed,
  });
  const isCore = sameUrn(schemaId, resourceSchemas(ctx.resourceType).core.id);
  if (!sub && isCore) {
    if (attribute.name === "id") return column(table.id);
    if (attribute.name === "externalId") return column(table.externalId);
    if (ctx.resourceType === "User" && attribute.name === "userName") return column(users.userNameKey, true);
    if (ctx.resourceType === "User" && attribute.name === "active") return column(users.active);
    if (ctx.resourceType === "Group" && attribute.name === "displayName") return column(groups.displayNameKey, true);
  }
  const names = sub ? [attribute.name, sub.name] : [attribute.name];
  const definition = sub ?? attribute;
  return {
    expr: sql`json_extract(${table.doc}, ${bind(ctx, jsonPath(documentPath(ctx, schemaId, ...names)))})`,
    type: definition.type,
    caseExact: definition.caseExact,
  };
}

function metaOperand(ctx: Context, path: AttrPath): Operand {
  const table = tables[ctx.resourceType];
  const sub = path.sub?.toLowerCase();
  if (sub === "created") return { expr: sql`${table.createdAt}`, type: "dateTime", caseExact: true };
  if (sub === "lastmodified") return { expr: sql`${table.lastModified}`, type: "dateTime", caseExact: true };
  if (sub === "resourcetype") return { expr: sql`${ctx.resourceType}`, type: "string", caseExact: false };
  throw scimErrors.invalidFilter(`Filtering on '${printAttrPath(path)}' is not supported; use meta.created or meta.lastModified.`);
}

/** Where an attribute lives in the stored document: extension attributes sit under their URN. */
function documentPath(ctx: Context, schemaId: string, ...names: string[]): string[] {
  return sameUrn(schemaId, resourceSchemas(ctx.resourceType).core.id) ? names : [schemaId, ...names];
}

/** A JSON path from canonical schema names only (never from input). */
function jsonPath(keys: readonly string[]): string {
  return `$${keys.map((k) => `."${k.replaceAll('"', '\\"')}"`).join("")}`;
}

function and(left: Filter, right: Filter): Filter {
  return { op: "and", left, right };
}

/** Entra's `emails[…].value eq "x"`: its `then` path names the attribute; inside, only the sub counts. */
function relativeTo(filter: Filter): Filter {
  if (filter.op === "compare" || filter.op === "present") {
    return { ...filter, path: { attr: filter.path.sub ?? "value" } };
  }
  throw new ScimError(400, "Unsupported expression after a value filter.", "invalidFilter");
}

/** The email value an element must equal, when the filter requires one (enables the index). */
function requiredEmail(filter: Filter): string | undefined {
  if (filter.op === "compare" && filter.operator === "eq" && typeof filter.value === "string") {
    return filter.path.attr.toLowerCase() === "value" ? filter.value.toLowerCase() : undefined;
  }
  if (filter.op === "and") return requiredEmail(filter.left) ?? requiredEmail(filter.right);
  return undefined;
}

/** An ORDER BY expression for `sortBy` (RFC 7644 §3.4.2.3); single-valued attributes only. */
export function sortExpression(resourceType: ResourceTypeName, path: AttrPath): SQL {
  const ctx: Context = { resourceType, tenantId: "", limits: new FilterLimits() };
  try {
    const operand =
      path.attr.toLowerCase() === "meta" ? metaOperand(ctx, path) : sortableOperand(ctx, lookup(ctx, path), path);
    const textual = operand.type === "string" || operand.type === "reference";
    return textual && !operand.caseExact && !operand.keyed ? sql`lower(${operand.expr})` : operand.expr;
  } catch (error) {
    if (error instanceof ScimError) throw scimErrors.invalidValue(`sortBy: ${error.message}`);
    throw error;
  }
}

function sortableOperand(ctx: Context, match: Resolved, path: AttrPath): Operand {
  if (match.attribute.multiValued) {
    throw scimErrors.invalidValue(`Cannot sort by the multi-valued attribute '${printAttrPath(path)}'.`);
  }
  if (match.attribute.type === "complex" && !match.sub) {
    throw scimErrors.invalidValue(`Name a sub-attribute of '${printAttrPath(path)}' to sort by.`);
  }
  return scalarOperand(ctx, match.schemaId, match.attribute, match.sub);
}
