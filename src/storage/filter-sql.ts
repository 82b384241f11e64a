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
import { type AttributeDefinition, findAttribute, type ResourceTypeName, resourceSchemas, sameUrn, subAttributeOf } from "../scim/schema";
import { foldedFor, keyedForSubstring } from "./case-fold";
import { comparable, isSubstringSearch, type Operand } from "./filter-values";
import { FilterLimits, LEAF_SQL_DEPTH } from "./filter-limits";
import { memberGroupsWalk } from "./group-nesting";
import { qualified } from "./qualified";
import { groupMembers, groups, userEmails, users } from "./schema";

export { MAX_FILTER_PARAMETERS, MAX_FILTER_SQL_DEPTH } from "./filter-limits";

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
  if (ctx.resourceType === "Group" && name === "members") return membersCondition(ctx, relative);
  if (ctx.resourceType === "User" && name === "groups") return userGroupsCondition(ctx, relative);

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
 * Group `members[…]`: answered from the membership table, never from a document. One member
 * satisfies the whole element filter, built from `value eq "id"`, `value pr` and
 * `type eq "User"|"Group"` (nested groups) with and/or/not: each an index lookup (the
 * primary key, or the partial index of subgroups), so no filter walks a large group's
 * members. A required `value eq` goes first as the narrowing lookup (filter-cost.ts).
 */
function membersCondition(ctx: Context, filter: Filter): SQL {
  const required = requiredValue(filter);
  const isJustValue = filter.op === "compare" && required !== undefined;
  if (required !== undefined && (isJustValue || ctx.indexOnly)) return groupsOfMember(ctx, required);
  const owner = sql`"member"."tenant_id" = ${qualified(groups.tenantId)} AND "member"."group_id" = ${qualified(groups.id)}`;
  const exists = sql`EXISTS (SELECT 1 FROM ${groupMembers} AS "member" WHERE ${owner} AND ${ctx.limits.insideJsonEach(() => memberElementCondition(ctx, filter))})`;
  return required === undefined ? exists : sql`(${groupsOfMember(ctx, required)} AND ${exists})`;
}

function memberElementCondition(ctx: Context, filter: Filter): SQL {
  switch (filter.op) {
    case "and":
    case "or":
      return ctx.limits.chain(filter, (term) => memberElementCondition(ctx, term));
    case "not":
      return ctx.limits.deeper(2, () => negate(memberElementCondition(ctx, filter.filter)));
    case "present":
    case "compare": {
      ctx.limits.requireDepth(LEAF_SQL_DEPTH);
      const sub = filter.path.sub === undefined && filter.path.urn === undefined ? filter.path.attr.toLowerCase() : undefined;
      if (sub === "value" && filter.op === "present") return sql`1`;
      if (sub === "value" && filter.op === "compare" && filter.operator === "eq" && typeof filter.value === "string") {
        return sql`"member"."member_id" = ${bind(ctx, filter.value)}`;
      }
      if (sub === "type" && filter.op === "compare" && filter.operator === "eq" && typeof filter.value === "string") {
        // canonicalValues "User" and "Group" (RFC 7643 §4.2), case-insensitive; anything else is no
        // member. A literal, so SQLite reads the partial index group_members_subgroups.
        const type = ["User", "Group"].find((t) => t.toLowerCase() === String(filter.value).toLowerCase());
        return type ? sql`"member"."member_type" = ${sql.raw(`'${type}'`)}` : sql`0`;
      }
      throw scimErrors.invalidFilter(`Members can only be filtered with value eq "<id>", value pr or type eq "User"|"Group".`);
    }
    case "valuePath":
      throw scimErrors.invalidFilter("Value filters cannot be nested.");
  }
}

/**
 * A user's `groups[…]` (and `groups.value eq`): one of its groups, direct or indirect,
 * satisfies the whole element filter. The groups come from the nesting walk in the same
 * statement (storage/group-nesting.ts: MAX_NESTING_DEPTH levels, NESTING_WALK_ROWS rows),
 * with `value` the group id and `type` "direct" or "indirect" (RFC 7643 §4.1.2). A scan
 * filter (filter-cost.ts), within the scan budget.
 */
function userGroupsCondition(ctx: Context, filter: Filter): SQL {
  const element = (sub: string): Operand => {
    const name = sub.toLowerCase();
    if (name === "value") return { expr: sql`"user_group"."id"`, type: "string", caseExact: true };
    if (name === "type") return { expr: sql`(CASE WHEN "user_group"."depth" = 1 THEN 'direct' ELSE 'indirect' END)`, type: "string", caseExact: false };
    throw scimErrors.invalidFilter(`A user's groups can be filtered by value and type only, not '${sub}'.`);
  };
  const walk = memberGroupsWalk(qualified(users.tenantId), qualified(users.id));
  return sql`EXISTS (SELECT 1 FROM (${walk}) AS "user_group" WHERE ${ctx.limits.insideJsonEach(() => elementCondition(ctx, filter, element))})`;
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

/**
 * `not`: a comparison on an absent attribute is NULL, and NOT NULL is still NULL (no match);
 * COALESCE makes "not equal to x" include the users who have no value at all.
 */
function negate(condition: SQL): SQL {
  return sql`(NOT COALESCE(${condition}, 0))`;
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

/** The `value` an element must equal through an and-chain, when the filter requires one (enables an index). */
function requiredValue(filter: Filter): string | undefined {
  if (filter.op === "compare" && filter.operator === "eq" && typeof filter.value === "string") {
    return filter.path.attr.toLowerCase() === "value" && filter.path.sub === undefined ? filter.value : undefined;
  }
  if (filter.op === "and") return requiredValue(filter.left) ?? requiredValue(filter.right);
  return undefined;
}

/** The email value an element must equal, when the filter requires one (enables the index). */
function requiredEmail(filter: Filter): string | undefined {
  return requiredValue(filter)?.toLowerCase();
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
