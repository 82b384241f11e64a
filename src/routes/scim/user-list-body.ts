/**
 * A page of users whose documents did not all come inline with the page (each one
 * over LIST_INLINE_DOC_BYTES, storage/users.ts). D1 returns at most 50 MB per statement and a
 * Worker has 128 MB: the large documents are read by id in order, at most DOC_BYTES_PER_READ
 * per statement, and each user is written to the stream as soon as its document is there,
 * so the Worker holds one such read at a time. A page of 1,000 users of 1 MiB each is read in
 * 1 + ceil(1,000 MiB / 8 MiB) = 126 round trips instead of one 1 GB result.
 */
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import type { JsonObject, ScimDocument } from "../../scim/schema";
import { rowsPerStatement } from "../../storage/chunk";
import { selectUserDocsQuery } from "../../storage/users";
import type { RenderedPage } from "./list-body";

type Ctx = Context<AppEnv>;

/** The most document bytes one follow-up statement returns (well under D1's 50 MB result). */
export const DOC_BYTES_PER_READ = 8 * 1024 * 1024;

/** A page row as read: `doc` is null when it was too large to come inline, `docBytes` its size. */
export interface PageRow {
  id: string;
  doc: Record<string, unknown> | null;
  docBytes: number;
}

/** The next run of rows without their document, as many as one read may return. */
function nextRead<R extends PageRow>(rows: readonly R[], from: number): R[] {
  const run: R[] = [];
  let bytes = 0;
  for (let i = from; i < rows.length; i++) {
    const row = rows[i];
    if (!row || row.doc !== null) continue;
    if (run.length > 0 && (bytes + row.docBytes > DOC_BYTES_PER_READ || run.length >= rowsPerStatement(1, 2))) break;
    run.push(row);
    bytes += row.docBytes;
  }
  return run;
}

/** The page's users rendered: all inline when every document came with the page, else streamed user by user. */
export function renderedUserPage<R extends PageRow>(c: Ctx, rows: readonly R[], render: (row: R & { doc: ScimDocument }) => JsonObject): RenderedPage {
  const inline = (row: R): (R & { doc: ScimDocument }) | undefined => (row.doc !== null ? { ...row, doc: row.doc as ScimDocument } : undefined);
  const allInline = rows.map(inline);
  if (allInline.every((r) => r !== undefined)) return { length: rows.length, inline: allInline.map(render) };
  const tdb = c.var.tenantDb;
  async function* parts(): AsyncGenerator<string, void> {
    let written = false;
    let docs = new Map<string, ScimDocument>();
    for (const [i, row] of rows.entries()) {
      let doc = (row.doc as ScimDocument | null) ?? docs.get(row.id);
      if (doc === undefined) {
        const ids = nextRead(rows, i).map((r) => r.id);
        const { results } = await tdb.read([selectUserDocsQuery(tdb.db, tdb.tenantId, ids)] as const);
        docs = new Map(results[0].map((r) => [r.id, r.doc as ScimDocument]));
        doc = docs.get(row.id);
      }
      // A user deleted since the page was read is left out, as a later page would not show it.
      if (doc === undefined) continue;
      yield `${written ? "," : ""}${JSON.stringify(render({ ...row, doc }))}`;
      written = true;
    }
  }
  return { length: rows.length, stream: parts };
}
