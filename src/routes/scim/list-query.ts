/**
 * The query of a list or .search request (RFC 7644 §3.4.2, RFC 9865 cursors), from URL
 * parameters or a .search body. Paging is forgiving where the RFC says so (§3.4.2.4:
 * startIndex below 1 is 1, a negative count is 0, above the maximum is capped); a count that
 * is not a number is a client error.
 */
import { z } from "zod";
import { DEFAULT_COUNT, MAX_RESULTS } from "../../scim/features";
import { parseAttributeList } from "../../scim/schema";

const integer = (name: string) =>
  z.union([z.number(), z.string().trim()]).transform((value, ctx) => {
    const n = typeof value === "number" ? value : /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      ctx.addIssue({ code: "custom", message: `${name} must be an integer` });
      return z.NEVER;
    }
    return n;
  });

const attributeList = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (Array.isArray(v) ? v.flatMap((s) => parseAttributeList(s)) : parseAttributeList(v)));

export const listQuerySchema = z.object({
  filter: z.string().optional(),
  startIndex: integer("startIndex").optional().transform((n) => Math.max(1, n ?? 1)),
  count: integer("count")
    .optional()
    .transform((n) => Math.min(MAX_RESULTS, Math.max(0, n ?? DEFAULT_COUNT))),
  sortBy: z.string().optional(),
  sortOrder: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || /^ascending$/i.test(v)) return "ascending" as const;
      if (/^descending$/i.test(v)) return "descending" as const;
      ctx.addIssue({ code: "custom", message: "sortOrder must be ascending or descending" });
      return z.NEVER;
    }),
  attributes: attributeList,
  excludedAttributes: attributeList,
  /** RFC 9865: present (even empty) asks for cursor paging; empty is the first page. */
  cursor: z.string().optional(),
});

export type ListQuery = z.output<typeof listQuerySchema>;

/** `attributes` / `excludedAttributes` alone, for single-resource responses. */
export const projectionQuerySchema = listQuerySchema.pick({ attributes: true, excludedAttributes: true });
export type ProjectionQuery = z.output<typeof projectionQuerySchema>;

/** No `attributes` / `excludedAttributes`: the default projection. */
export const NO_PROJECTION: ProjectionQuery = { attributes: [], excludedAttributes: [] };
