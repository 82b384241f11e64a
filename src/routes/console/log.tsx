/** Console → Provisioning log: newest first, paged, "failures only", each failure diagnosed. */
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { z } from "zod";
import { diagnose, fixFor, type IdpKind } from "../../console/diagnoses";
import { type LoggedRequest, readLogPage } from "../../storage/console-reads";
import { shardDb } from "../../storage/shards";
import { minuteUtc, renderPage } from "../page-layout";
import { ConsoleLayout, type ConsolePage, consolePage, consolePath } from "./frame";
import type { ConsoleEnv } from "./session";

const LOG_PAGE_ROWS = 50;

const logQuery = z.object({
  before: z.coerce.number().int().min(1).catch(Number.MAX_SAFE_INTEGER),
  failures: z.enum(["1"]).optional().catch(undefined),
});

const Diagnosis: FC<{ entry: LoggedRequest; idp: IdpKind }> = ({ entry, idp }) => {
  const found = diagnose(entry);
  return (
    <div class="diagnosis" data-diagnosis={found.id}>
      <p>
        <strong>{found.summary}</strong>
      </p>
      <p>{fixFor(found, idp)}</p>
      {entry.detail && (
        <p class="hint">
          Server said: {entry.scimType ? <code>{entry.scimType}</code> : null} {entry.detail}
        </p>
      )}
    </div>
  );
};

const LogPage: FC<{ page: ConsolePage; idp: IdpKind; rows: LoggedRequest[]; failuresOnly: boolean; next: number | null }> = ({
  page,
  idp,
  rows,
  failuresOnly,
  next,
}) => (
  <ConsoleLayout page={page} section="log" title="Provisioning log">
    <p>
      Every change the identity provider made and every request that failed, newest first. Successful reads are not
      logged; the Overview shows when the identity provider last called.
    </p>
    <form method="get" class="inline">
      <label class="choice">
        <input type="checkbox" name="failures" value="1" checked={failuresOnly} /> Failures only
      </label>
      <button type="submit" class="secondary">
        Show
      </button>
    </form>
    {rows.length === 0 ? (
      <p>{failuresOnly ? "No failed requests." : "Nothing logged yet."}</p>
    ) : (
      <div class="table-wrap">
        <table class="stack" id="log">
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Request</th>
              <th scope="col">Result</th>
              <th scope="col">What it means</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr data-status={String(row.status)}>
                <td data-label="Time">{minuteUtc(row.at)}</td>
                <td data-label="Request">
                  <code>
                    {row.method} {row.path}
                  </code>
                  {row.userAgent && <p class="hint">{row.userAgent}</p>}
                </td>
                <td data-label="Result">
                  <span class={row.status >= 400 ? "bad" : "ok"}>{row.status}</span>
                </td>
                <td data-label="What it means">{row.status >= 400 ? <Diagnosis entry={row} idp={idp} /> : "Applied."}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
    {next !== null && (
      <p class="pager">
        <a href={consolePath(page.tenantId, `/log?before=${next}${failuresOnly ? "&failures=1" : ""}`)}>Older entries</a>
      </p>
    )}
  </ConsoleLayout>
);

export const logRoutes = new Hono<ConsoleEnv>().get("/", async (c) => {
  const session = c.get("session");
  const query = logQuery.parse(c.req.query());
  const failuresOnly = query.failures === "1";
  const rows = await readLogPage(shardDb(c.env, session.tenant.shard), session.tenant.id, query.before, LOG_PAGE_ROWS, failuresOnly);
  const next = rows.length === LOG_PAGE_ROWS ? (rows.at(-1)?.seq ?? null) : null;
  return renderPage(c, 200, (frame) => (
    <LogPage
      page={consolePage(session, frame)}
      idp={session.tenant.provider}
      rows={rows}
      failuresOnly={failuresOnly}
      next={next}
    />
  ));
});
