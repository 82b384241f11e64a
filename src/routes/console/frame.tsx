/** The console's page frame: the shared layout with the console's navigation and sign-out. */
import type { Child, FC } from "hono/jsx";
import { Layout, type PageFrame } from "../page-layout";

export type ConsoleSection = "overview" | "log" | "users" | "groups" | "settings";

const SECTIONS: { id: ConsoleSection; label: string; path: string }[] = [
  { id: "overview", label: "Overview", path: "" },
  { id: "log", label: "Provisioning log", path: "/log" },
  { id: "users", label: "Users", path: "/users" },
  { id: "groups", label: "Groups", path: "/groups" },
  { id: "settings", label: "Settings", path: "/settings" },
];

export interface ConsolePage {
  frame: PageFrame;
  tenantId: string;
  tenantName: string;
  csrf: string;
}

/**
 * A page's frame for the signed-in session: the tenant it shows (the session's, or a fresher
 * row just read or written) and the CSRF token its forms carry.
 */
export function consolePage(session: { tenant: { id: string; name: string }; csrfToken: string }, frame: PageFrame, tenant = session.tenant): ConsolePage {
  return { frame, tenantId: tenant.id, tenantName: tenant.name, csrf: session.csrfToken };
}

export function consolePath(tenantId: string, rest = ""): string {
  return `/console/${tenantId}${rest}`;
}

/** The session's CSRF token, in every state-changing form. */
export const CsrfField: FC<{ csrf: string }> = ({ csrf }) => <input type="hidden" name="csrf" value={csrf} />;

export const ConsoleLayout: FC<{ page: ConsolePage; section: ConsoleSection; title: string; script?: boolean; children?: Child }> = ({
  page,
  section,
  title,
  script,
  children,
}) => (
  <Layout
    title={`${title}: ${page.tenantName}`}
    frame={page.frame}
    script={script}
    narrow={false}
    nav={
      <nav class="console" aria-label="Console">
        <ul>
          {SECTIONS.map((s) => (
            <li>
              <a href={consolePath(page.tenantId, s.path)} aria-current={s.id === section ? "page" : undefined}>
                {s.label}
              </a>
            </li>
          ))}
          <li>
            <form method="post" action={consolePath(page.tenantId, "/sign-out")}>
              <CsrfField csrf={page.csrf} />
              <button type="submit" class="secondary">
                Sign out
              </button>
            </form>
          </li>
        </ul>
      </nav>
    }
  >
    <p class="lead">{page.tenantName}</p>
    <h1>{title}</h1>
    {children}
  </Layout>
);
