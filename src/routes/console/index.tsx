/**
 * /console: the tenant IT admin's console (issue 14). The operator hands out a single-use
 * sign-in link (POST /admin/tenants/{id}/console-links); it opens a session for that tenant
 * only, under /console/{tenantId}/…. See session.tsx for the cookie and the form checks.
 *
 * The sign-in link's GET only shows a button; the POST signs in. Mail scanners (Outlook Safe
 * Links and the like) fetch links in messages, and a GET that redeemed the link would burn it
 * before the admin clicks.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { publicOrigin } from "../../env";
import { ScimError } from "../../scim/errors";
import { directoryDb } from "../../storage/shards";
import { CONSOLE_SESSION_TTL_MS, inspectConsoleLink, signIn, signOut } from "../../tenancy/console-session";
import { MessagePage, renderMessage, renderPage } from "../page-layout";
import { consolePath } from "./frame";
import { groupsRoutes } from "./groups";
import { logRoutes } from "./log";
import { overviewRoutes } from "./overview";
import { checkedForm, type ConsoleEnv, formRefusedPage, requireSession, sessionCookie } from "./session";
import { settingsRoutes } from "./settings";
import { usersRoutes } from "./users";

const MAX_FORM_BYTES = 64 * 1024;

function linkRefusedPage(c: Context<ConsoleEnv>, reason: "unknown" | "used" | "expired") {
  const messages = {
    unknown: ["Console link not found", "This console link is not valid. Check that you copied the whole link, or ask the application's administrator for a new one."],
    used: ["Console link already used", "Each console link signs in once. Ask the application's administrator for a new link."],
    expired: ["Console link expired", "Console links work for 15 minutes. Ask the application's administrator for a new link."],
  } as const;
  const [title, message] = messages[reason];
  return renderMessage(c, reason === "unknown" ? 404 : 410, title, message);
}

const tenantConsole = new Hono<ConsoleEnv>()
  .use(requireSession)
  .route("/", overviewRoutes)
  .route("/log", logRoutes)
  .route("/users", usersRoutes)
  .route("/groups", groupsRoutes)
  .route("/settings", settingsRoutes)
  .post("/sign-out", checkedForm, async (c) => {
    await signOut(directoryDb(c.env), c.get("session"));
    c.header("Set-Cookie", sessionCookie(c, "", 0));
    return renderMessage(c, 200, "Signed out", "You are signed out of the console.");
  });

export const consoleRoutes = new Hono<ConsoleEnv>()
  .use(bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => renderMessage(c, 413, "Form too large", "The submitted form is too large.") }))
  .get("/", (c) =>
    renderMessage(c, 200, "Admin console", "Open the console link you received from the application's administrator to sign in."),
  )
  .get("/sign-in/:code", async (c) => {
    const state = await inspectConsoleLink(directoryDb(c.env), c.req.param("code"));
    if (!state) return linkRefusedPage(c, "unknown");
    if (!state.usable) return linkRefusedPage(c, state.reason);
    return renderPage(c, 200, (frame) => (
      <MessagePage frame={frame} title="Sign in to the admin console" message={`This link signs you in to the SCIM console of ${state.tenant.name}, once.`}>
        <form method="post">
          <button type="submit">Sign in</button>
        </form>
      </MessagePage>
    ));
  })
  .post("/sign-in/:code", async (c) => {
    // Another site cannot sign the admin's browser in to a session of its choosing.
    if (c.req.header("Origin") !== new URL(publicOrigin(c.env, c.req.url)).origin) return formRefusedPage(c);
    const db = directoryDb(c.env);
    const opened = await signIn(db, c.req.param("code"));
    if (!opened) {
      const state = await inspectConsoleLink(db, c.req.param("code"));
      return linkRefusedPage(c, state && !state.usable ? state.reason : "unknown");
    }
    c.header("Set-Cookie", sessionCookie(c, opened.sessionId, CONSOLE_SESSION_TTL_MS / 1000));
    return c.redirect(consolePath(opened.tenantId), 303);
  })
  .route("/:tenantId", tenantConsole)
  .onError((error, c) => {
    if (error instanceof ScimError && error.status === 503) {
      return renderMessage(c, 503, "Console not available", "This server's public address is not configured. Please tell the application's administrator.");
    }
    // Log for the operator; the admin gets a plain page, never a stack or a JSON error.
    console.error(`${c.req.method} /console failed`, error);
    return renderMessage(c, 500, "Something went wrong", "The page could not be shown. Please try again in a minute.");
  });
