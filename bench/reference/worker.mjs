/**
 * The bare-runtime reference for `npm run bench`: the least I/O each kind of SCIM request
 * must do on these bindings, with no framework, no validation and no SCIM. Every request
 * authenticates like the SCIM Worker (SHA-256 of the bearer token, the KV lookup of its hash
 * with the same cacheTtl, the rate-limit binding), then:
 *
 *   GET  /read/{i}   (a) one D1 round trip: the tenant's token check and one row by key;
 *   POST /write      (b) one D1 batch: the token check and one insert;
 *   POST /do-write   (c) a call to the tenant's Durable Object, which runs (b)'s batch;
 *   POST /write-post (d) (b), then after the response one signed POST of the write to the
 *                    receiver named by `?receiver=` (a 127.0.0.1 URL): what delivering a write's
 *                    webhook costs this runtime at the least (no queue, no D1, no retry record).
 *
 * POST /setup creates the tables, the tenant and its rows, and the KV entry (once, before
 * anything is measured). Only the bench talks to it, on 127.0.0.1.
 */
import { DurableObject } from "cloudflare:workers";

const SETUP_ROWS = 1000;

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The token check and the insert, as one batch (the SCIM write's guard + change in one round trip). */
function writeBatch(db, auth, data) {
  return db.batch([
    db.prepare("SELECT 1 FROM tenants WHERE id = ? AND token_hash = ?").bind(auth.tenantId, auth.tokenHash),
    db.prepare("INSERT INTO writes (tenant_id, at, data) VALUES (?, ?, ?)").bind(auth.tenantId, new Date().toISOString(), data),
  ]);
}

export class ReferenceWriter extends DurableObject {
  async write(auth, data) {
    await writeBatch(this.env.DB, auth, data);
    return true;
  }
}

let signingKey;

/** (d): a Standard Webhooks POST (HMAC-SHA256 of "id.timestamp.body"), as the SCIM Worker signs one. */
async function postSigned(url, body, n) {
  signingKey ??= crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(24)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const id = `evt_ref_${n}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const mac = await crypto.subtle.sign("HMAC", await signingKey, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  const signature = `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
  } catch (error) {
    console.error("reference POST failed", error);
  }
}

let posted = 0;

async function authenticate(request, env) {
  const token = (request.headers.get("Authorization") ?? "").replace(/^Bearer\s+/i, "");
  const tokenHash = await sha256Hex(token);
  const entry = await env.TOKENS.get(`token:v1:${tokenHash}`, { type: "json", cacheTtl: 300 });
  if (!entry) return null;
  const { success } = await env.TENANT_RATE_LIMIT.limit({ key: entry.tenantId });
  return success ? { tenantId: entry.tenantId, tokenHash } : null;
}

async function setup(request, env) {
  const { tenantId, token } = await request.json();
  const tokenHash = await sha256Hex(token);
  const db = env.DB;
  await db.batch([
    db.prepare("CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL)"),
    db.prepare("CREATE TABLE IF NOT EXISTS items (tenant_id TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (tenant_id, id))"),
    db.prepare("CREATE TABLE IF NOT EXISTS writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL, at TEXT NOT NULL, data TEXT)"),
    db.prepare("INSERT OR REPLACE INTO tenants (id, token_hash) VALUES (?, ?)").bind(tenantId, tokenHash),
    db
      .prepare(
        "INSERT OR REPLACE INTO items (tenant_id, id, doc) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) SELECT ?, 'item' || i, json_object('id', 'item' || i, 'userName', 'user' || i || '@bench.example') FROM n",
      )
      .bind(SETUP_ROWS, tenantId),
  ]);
  await env.TOKENS.put(`token:v1:${tokenHash}`, JSON.stringify({ tenantId }));
  return Response.json({ rows: SETUP_ROWS });
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/ref/, "");
    if (request.method === "POST" && path === "/setup") return setup(request, env);
    const auth = await authenticate(request, env);
    if (!auth) return new Response(null, { status: 401 });
    const read = /^\/read\/(\d+)$/.exec(path);
    if (request.method === "GET" && read) {
      const [check, rows] = await env.DB.batch([
        env.DB.prepare("SELECT token_hash FROM tenants WHERE id = ?").bind(auth.tenantId),
        env.DB.prepare("SELECT doc FROM items WHERE tenant_id = ? AND id = ?").bind(auth.tenantId, `item${read[1]}`),
      ]);
      if (check.results[0]?.token_hash !== auth.tokenHash) return new Response(null, { status: 401 });
      const row = rows.results[0];
      return row ? new Response(row.doc, { headers: { "Content-Type": "application/json" } }) : new Response(null, { status: 404 });
    }
    if (request.method === "POST" && path === "/write") {
      await writeBatch(env.DB, auth, await request.text());
      return new Response('{"ok":true}', { status: 201, headers: { "Content-Type": "application/json" } });
    }
    if (request.method === "POST" && path === "/write-post") {
      const receiver = URL.parse(url.searchParams.get("receiver") ?? "");
      if (receiver?.hostname !== "127.0.0.1") return new Response(null, { status: 400 });
      const data = await request.text();
      await writeBatch(env.DB, auth, data);
      ctx.waitUntil(postSigned(receiver.href, data, posted++));
      return new Response('{"ok":true}', { status: 201, headers: { "Content-Type": "application/json" } });
    }
    if (request.method === "POST" && path === "/do-write") {
      await env.REFERENCE_WRITER.getByName(auth.tenantId).write(auth, await request.text());
      return new Response(null, { status: 204 });
    }
    return new Response(null, { status: 404 });
  },
};
