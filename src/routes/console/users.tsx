/**
 * Console → Users: read-only (the IdP owns them). Search by name or email, active/inactive,
 * "not in any group" (Level Access's Unassigned users), each with its groups and roles.
 */
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { z } from "zod";
import { type ListedUser, searchUsers, USER_SEARCH_WINDOW } from "../../storage/console-reads";
import { shardDb } from "../../storage/shards";
import { renderPage } from "../page-layout";
import { ConsoleLayout, type ConsolePage, consolePage, consolePath } from "./frame";
import type { ConsoleEnv } from "./session";

const USER_PAGE_ROWS = 50;

const usersQuery = z.object({
  q: z.string().max(200).catch(""),
  status: z.enum(["any", "active", "inactive"]).catch("any"),
  unassigned: z.enum(["1"]).optional().catch(undefined),
  after: z.coerce.number().int().min(0).catch(0),
});
type UsersQuery = z.infer<typeof usersQuery>;

function parsedJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function emailsOf(user: ListedUser): string[] {
  const emails = parsedJson(user.emailsJson);
  if (!Array.isArray(emails)) return [];
  return emails.flatMap((e: unknown) => (e && typeof e === "object" && typeof (e as { value?: unknown }).value === "string" ? [(e as { value: string }).value] : []));
}

function queryString(query: UsersQuery, after: number): string {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  if (query.status !== "any") params.set("status", query.status);
  if (query.unassigned) params.set("unassigned", "1");
  params.set("after", String(after));
  return params.toString();
}

const UserRow: FC<{ user: ListedUser; tenantId: string }> = ({ user, tenantId }) => {
  const shownRoles = [...user.roles.effective, ...user.roles.unknown.map((value) => `${value} (not in the role catalog)`)];
  return (
    <tr>
      <td data-label="User">
        <strong>{user.displayName ?? user.userName}</strong>
        <br />
        <code>{user.userName}</code>
        {emailsOf(user).map((email) => (
          <p class="hint">{email}</p>
        ))}
      </td>
      <td data-label="Status">{user.active ? <span class="ok">active</span> : <span class="bad">inactive</span>}</td>
      <td data-label="Groups">
        {user.groups.length === 0
          ? "not in any group"
          : user.groups.map((g, i) => (
              <>
                {i > 0 && ", "}
                <a href={consolePath(tenantId, `/groups/${g.id}`)}>{g.displayName}</a>
              </>
            ))}
      </td>
      <td data-label="Roles">{shownRoles.length ? shownRoles.join(", ") : "none"}</td>
    </tr>
  );
};

const UsersPage: FC<{ page: ConsolePage; query: UsersQuery; users: ListedUser[]; next: number | null }> = ({ page, query, users, next }) => (
  <ConsoleLayout page={page} section="users" title="Users">
    <p>Users are provisioned by your identity provider and read-only here: change them there.</p>
    <form method="get" class="inline" role="search">
      <div class="field">
        <label for="q">Name or email contains</label>
        <input type="search" id="q" name="q" value={query.q} maxlength={200} />
      </div>
      <div class="field">
        <label for="status">Status</label>
        <select id="status" name="status">
          <option value="any" selected={query.status === "any"}>
            Active and inactive
          </option>
          <option value="active" selected={query.status === "active"}>
            Active only
          </option>
          <option value="inactive" selected={query.status === "inactive"}>
            Inactive only
          </option>
        </select>
      </div>
      <label class="choice">
        <input type="checkbox" name="unassigned" value="1" checked={query.unassigned === "1"} /> Not in any group
      </label>
      <button type="submit">Search</button>
    </form>
    {users.length === 0 ? (
      <p>{next === null ? "No users match." : `No match among the next ${USER_SEARCH_WINDOW} users; continue below.`}</p>
    ) : (
      <div class="table-wrap">
        <table class="stack" id="users">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Status</th>
              <th scope="col">Groups</th>
              <th scope="col">Roles</th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <UserRow user={user} tenantId={page.tenantId} />
            ))}
          </tbody>
        </table>
      </div>
    )}
    {next !== null && (
      <p class="pager">
        <a href={consolePath(page.tenantId, `/users?${queryString(query, next)}`)}>More users</a>
      </p>
    )}
  </ConsoleLayout>
);

export const usersRoutes = new Hono<ConsoleEnv>().get("/", async (c) => {
  const session = c.get("session");
  const query = usersQuery.parse(c.req.query());
  const found = await searchUsers(shardDb(c.env, session.tenant.shard), session.tenant.id, {
    // The stored email keys are lower case; userName and displayName are lowered in SQL.
    text: query.q.trim().normalize("NFC").toLowerCase(),
    status: query.status,
    notInAnyGroup: query.unassigned === "1",
    after: query.after,
    limit: USER_PAGE_ROWS,
  });
  return renderPage(c, 200, (frame) => (
    <UsersPage
      page={consolePage(session, frame)}
      query={query}
      users={found.users}
      next={found.next}
    />
  ));
});
