/**
 * Console → Groups: every group the IdP pushed, with its members count, role and domains. The
 * role and domains are stamped from the tenant's defaults when the IdP creates the group
 * (Monte Carlo's authorization groups) and edited here; the IdP never changes them.
 */
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { z } from "zod";
import { type GroupDetail, type MemberRow, readGroupWithMembers } from "../../storage/console-reads";
import { shardDb } from "../../storage/shards";
import { listGroupsAfter, updateGroupGrants } from "../../storage/directory";
import { renderPage } from "../page-layout";
import { ConsoleLayout, type ConsolePage, consolePage, consolePath, CsrfField } from "./frame";
import { type GrantErrors, parseGrants } from "./grant-fields";
import { checkedForm, type ConsoleEnv, formFields, notFoundPage } from "./session";

const GROUP_PAGE_ROWS = 50;
const MEMBER_PAGE_ROWS = 50;

type GroupSummary = Awaited<ReturnType<typeof listGroupsAfter>>[number];

const GroupsPage: FC<{ page: ConsolePage; groups: GroupSummary[]; next: number | null }> = ({ page, groups, next }) => (
  <ConsoleLayout page={page} section="groups" title="Groups">
    <p>Groups come from your identity provider. Their role and domains are this application's: edit them per group.</p>
    {groups.length === 0 ? (
      <p>No groups yet.</p>
    ) : (
      <div class="table-wrap">
        <table class="stack" id="groups">
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Members</th>
              <th scope="col">Role</th>
              <th scope="col">Domains</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr>
                <td data-label="Group">
                  <a href={consolePath(page.tenantId, `/groups/${g.id}`)}>{g.displayName}</a>
                </td>
                <td data-label="Members">{g.memberCount}</td>
                <td data-label="Role">{g.role ?? "none"}</td>
                <td data-label="Domains">{g.domains.length ? g.domains.join(", ") : "none"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
    {next !== null && (
      <p class="pager">
        <a href={consolePath(page.tenantId, `/groups?after=${next}`)}>More groups</a>
      </p>
    )}
  </ConsoleLayout>
);

export interface GrantValues {
  role: string;
  domains: string;
}

const GroupPage: FC<{
  page: ConsolePage;
  group: GroupDetail;
  members: MemberRow[];
  nextMember: string | null;
  values: GrantValues;
  errors: GrantErrors;
  saved: boolean;
}> = ({ page, group, members, nextMember, values, errors, saved }) => (
  <ConsoleLayout page={page} section="groups" title={`Group: ${group.displayName}`}>
    {saved && (
      <p class="ok" role="status">
        Saved.
      </p>
    )}
    {(errors.role || errors.domains) && (
      <div class="alert" role="alert">
        <strong>Nothing was saved. Please correct the following:</strong>
        <ul>
          {errors.role && <li>Role: {errors.role}</li>}
          {errors.domains && <li>Domains: {errors.domains}</li>}
        </ul>
      </div>
    )}
    <form method="post" action={consolePath(page.tenantId, `/groups/${group.id}`)}>
      <CsrfField csrf={page.csrf} />
      <div class="field">
        <label for="role">Role</label>
        <input type="text" id="role" name="role" value={values.role} maxlength={100} autocomplete="off" aria-invalid={errors.role ? "true" : undefined} aria-describedby="role-hint" />
        <p class="hint" id="role-hint">
          What this application grants the group's members. Leave empty for none.
        </p>
      </div>
      <div class="field">
        <label for="domains">Domains</label>
        <textarea id="domains" name="domains" rows={3} autocomplete="off" spellcheck={false} aria-invalid={errors.domains ? "true" : undefined} aria-describedby="domains-hint">
          {values.domains}
        </textarea>
        <p class="hint" id="domains-hint">
          Email domains this application associates with the group, separated by commas, spaces or new lines. They do not
          filter who the identity provider adds.
        </p>
      </div>
      <button type="submit">Save role and domains</button>
    </form>
    <h2>Members ({group.memberCount})</h2>
    {members.length === 0 ? (
      <p>No members{nextMember === null ? "" : " on this page"}.</p>
    ) : (
      <ul id="members">
        {members.map((m) =>
          m.memberType === "Group" ? (
            <li>
              group <code>{m.memberId}</code>
            </li>
          ) : (
            <li>
              {m.displayName ?? m.userName ?? m.memberId} {m.userName && <code>{m.userName}</code>}
              {m.active === false && <span class="bad"> (inactive)</span>}
            </li>
          ),
        )}
      </ul>
    )}
    {nextMember !== null && (
      <p class="pager">
        <a href={consolePath(page.tenantId, `/groups/${group.id}?after=${encodeURIComponent(nextMember)}`)}>More members</a>
      </p>
    )}
  </ConsoleLayout>
);

const pageQuery = z.object({ after: z.coerce.number().int().min(0).catch(0) });
const memberQuery = z.object({ after: z.string().max(200).catch(""), saved: z.enum(["1"]).optional().catch(undefined) });

export const groupsRoutes = new Hono<ConsoleEnv>()
  .get("/", async (c) => {
    const session = c.get("session");
    const { after } = pageQuery.parse(c.req.query());
    const groups = await listGroupsAfter(shardDb(c.env, session.tenant.shard), session.tenant.id, after, GROUP_PAGE_ROWS);
    const next = groups.length === GROUP_PAGE_ROWS ? (groups.at(-1)?.seq ?? null) : null;
    return renderPage(c, 200, (frame) => (
      <GroupsPage page={consolePage(session, frame)} groups={groups} next={next} />
    ));
  })
  .get("/:groupId", async (c) => {
    const session = c.get("session");
    const { after, saved } = memberQuery.parse(c.req.query());
    // Read with the session's tenant: another tenant's group id is simply not found.
    const read = await readGroupWithMembers(shardDb(c.env, session.tenant.shard), session.tenant.id, c.req.param("groupId"), after, MEMBER_PAGE_ROWS);
    if (!read) return notFoundPage(c);
    const nextMember = read.members.length === MEMBER_PAGE_ROWS ? (read.members.at(-1)?.memberId ?? null) : null;
    const values = { role: read.group.role ?? "", domains: read.group.domains.join("\n") };
    return renderPage(c, 200, (frame) => (
      <GroupPage
        page={consolePage(session, frame)}
        group={read.group}
        members={read.members}
        nextMember={nextMember}
        values={values}
        errors={{}}
        saved={saved === "1"}
      />
    ));
  })
  .post("/:groupId", checkedForm, async (c) => {
    const session = c.get("session");
    const db = shardDb(c.env, session.tenant.shard);
    const groupId = c.req.param("groupId");
    const fields = await formFields(c);
    const values = { role: fields.text("role"), domains: fields.text("domains") };
    const parsed = parseGrants(values.role, values.domains);
    if (!parsed.ok) {
      const read = await readGroupWithMembers(db, session.tenant.id, groupId, "", MEMBER_PAGE_ROWS);
      if (!read) return notFoundPage(c);
      const errors = parsed.errors;
      return renderPage(c, 400, (frame) => (
        <GroupPage
          page={consolePage(session, frame)}
          group={read.group}
          members={read.members}
          nextMember={null}
          values={values}
          errors={errors}
          saved={false}
        />
      ));
    }
    const updated = await updateGroupGrants(db, session.tenant.id, groupId, { role: parsed.role, domains: parsed.domains });
    if (!updated) return notFoundPage(c);
    // Post/redirect/get: a reload does not submit again.
    return c.redirect(consolePath(session.tenant.id, `/groups/${groupId}?saved=1`), 303);
  });
