/** Console → Overview: is provisioning working, in words, with the numbers behind it. */
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { AUTH_FAILURE_HINTS, diagnose, fixFor } from "../../console/diagnoses";
import { publicOrigin, scimBaseUrl } from "../../env";
import type { AuthFailureSummary } from "../../storage/auth-failures";
import { readOverview, type LoggedRequest } from "../../storage/console-reads";
import { shardDb } from "../../storage/shards";
import type { TenantRow } from "../../storage/tenants";
import { type TenantHealth, tenantHealth } from "../../tenancy/health";
import { CopyableField, minuteUtc, renderPage } from "../page-layout";
import { ConsoleLayout, type ConsolePage, consolePage, consolePath } from "./frame";
import { type ConsoleEnv, notFoundPage } from "./session";

/** The connection's state as an admin would say it: never called / healthy / failing since … / idle since …. */
export function connectionStatus(health: TenantHealth): { tone: "ok" | "bad" | "neutral"; text: string } {
  if (health.status === "idle" && health.since === null) {
    return { tone: "neutral", text: "Never called: no identity provider has used this organisation's token yet." };
  }
  if (health.status === "idle") {
    return { tone: "neutral", text: `Idle since ${minuteUtc(health.since ?? "")}: no request from the identity provider for more than 2 hours.` };
  }
  if (health.status === "failing") {
    return { tone: "bad", text: `Failing since ${minuteUtc(health.since ?? "")}: most recent requests from the identity provider fail.` };
  }
  return { tone: "ok", text: "Healthy: the identity provider is calling and its requests succeed." };
}

const AuthFailures: FC<{ failures: AuthFailureSummary }> = ({ failures }) =>
  failures.count === 0 ? (
    <p>None since the last successful request.</p>
  ) : (
    <>
      <p class="bad">
        {failures.count} refused since the last successful request (first {minuteUtc(failures.firstAt ?? "")}, last{" "}
        {minuteUtc(failures.lastAt ?? "")}).
      </p>
      {failures.lastReason && <p>{AUTH_FAILURE_HINTS[failures.lastReason]}</p>}
      {failures.lastUserAgent && (
        <p class="hint">
          Sent by: <code>{failures.lastUserAgent}</code>
        </p>
      )}
    </>
  );

const LastRequest: FC<{ tenant: TenantRow; newest: LoggedRequest | undefined }> = ({ tenant, newest }) => (
  <>
    <dt>Last request</dt>
    <dd>{tenant.tokenLastUsedAt ? minuteUtc(tenant.tokenLastUsedAt) : newest ? minuteUtc(newest.at) : "never"}</dd>
    {newest && (
      <>
        <dt>Last logged request</dt>
        <dd>
          <code>
            {newest.method} {newest.path}
          </code>{" "}
          → {newest.status}, {minuteUtc(newest.at)}
          {newest.userAgent && (
            <>
              , from <code>{newest.userAgent}</code>
            </>
          )}
        </dd>
      </>
    )}
  </>
);

const OverviewPage: FC<{
  page: ConsolePage;
  tenant: TenantRow;
  health: TenantHealth;
  failures: AuthFailureSummary;
  newest: LoggedRequest | undefined;
  newestFailure: LoggedRequest | undefined;
  baseUrl: string;
}> = ({ page, tenant, health, failures, newest, newestFailure, baseUrl }) => {
  const status = connectionStatus(health);
  return (
    <ConsoleLayout page={page} section="overview" title="Overview" script>
      <h2>Connection</h2>
      <p id="connection-status" class={status.tone === "neutral" ? undefined : status.tone}>
        {status.text}
      </p>
      {!tenant.enabled && <p class="bad">SCIM is disabled for this organisation: every request from the identity provider is refused (403).</p>}
      {newestFailure && (
        <div class="notice" role="note">
          <p>
            <strong>Newest failure</strong> ({minuteUtc(newestFailure.at)}): {diagnose(newestFailure).summary}
          </p>
          <p>{fixFor(diagnose(newestFailure), tenant.provider)}</p>
          <p>
            <a href={consolePath(page.tenantId, "/log?failures=1")}>See every failure in the provisioning log</a>
          </p>
        </div>
      )}
      <dl class="facts">
        <LastRequest tenant={tenant} newest={newest} />
        <dt>Users</dt>
        <dd id="count-users">{tenant.userCount}</dd>
        <dt>Active users (seats)</dt>
        <dd id="count-active-users">{tenant.activeUserCount}</dd>
        <dt>Groups</dt>
        <dd id="count-groups">{tenant.groupCount}</dd>
      </dl>
      <h2>SCIM connection</h2>
      <CopyableField id="scim-base-url" label="SCIM base URL" value={baseUrl} />
      <p id="copy-status" class="hint" role="status" aria-live="polite"></p>
      <dl class="facts">
        <dt>Token</dt>
        <dd>{tenant.tokenPrefix ? `${tenant.tokenPrefix}…${tenant.tokenLastFour ?? ""}` : "none issued"}</dd>
        <dt>Token created</dt>
        <dd>{tenant.tokenCreatedAt ? minuteUtc(tenant.tokenCreatedAt) : "never"}</dd>
        <dt>Token last used</dt>
        <dd id="token-last-used">{tenant.tokenLastUsedAt ? minuteUtc(tenant.tokenLastUsedAt) : "never"}</dd>
      </dl>
      <h2>Failed authentications</h2>
      <AuthFailures failures={failures} />
    </ConsoleLayout>
  );
};

export const overviewRoutes = new Hono<ConsoleEnv>().get("/", async (c) => {
  const session = c.get("session");
  const read = await readOverview(shardDb(c.env, session.tenant.shard), session.tenant.id);
  if (!read) return notFoundPage(c);
  const { tenant, recent } = read;
  const health = tenantHealth(recent, tenant.tokenLastUsedAt, Date.now());
  const baseUrl = scimBaseUrl(publicOrigin(c.env, c.req.url), tenant.id);
  return renderPage(c, 200, (frame) => (
    <OverviewPage
      page={consolePage(session, frame, tenant)}
      tenant={tenant}
      health={health}
      failures={read.authFailures}
      newest={recent[0]}
      newestFailure={recent.find((r) => r.status >= 400)}
      baseUrl={baseUrl}
    />
  ));
});
