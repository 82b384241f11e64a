/**
 * A small keep-alive HTTP client on node:http (cheaper per request than fetch, which matters
 * when the client shares 2 cores with the server). One Agent per pool of C connections.
 */
import http from "node:http";
import { assertLoopback } from "./start-worker.mjs";

const REQUEST_TIMEOUT_MS = 60_000;

export class Client {
  /**
   * baseUrl: the tenant's SCIM base URL (http://127.0.0.1:<port>/scim/v2/<tenant>);
   * token: its bearer token; connections: sockets kept alive.
   */
  constructor(baseUrl, token, connections) {
    const url = assertLoopback(baseUrl);
    this.port = Number(url.port || 80);
    this.prefix = url.pathname.replace(/\/$/, "");
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: "fifo" });
    this.auth = `Bearer ${token}`;
  }

  /**
   * Sends one request. Returns { status, ms, body? } (body only with `read: true`, as text);
   * status 0 = network error or timeout (error holds the reason). Never throws.
   */
  send(method, path, { body, read = false, contentType = "application/scim+json", timeoutMs = REQUEST_TIMEOUT_MS, token, absolute = false } = {}) {
    return new Promise((resolve) => {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      // token / absolute: a request for another tenant than the client's (bench/shard-scenarios.mjs).
      const headers = { Authorization: token ? `Bearer ${token}` : this.auth, Accept: "application/scim+json" };
      if (payload !== undefined) {
        headers["Content-Type"] = contentType;
        headers["Content-Length"] = Buffer.byteLength(payload);
      }
      const started = performance.now();
      let settled = false;
      const done = (result) => {
        if (settled) return;
        settled = true;
        resolve({ ...result, ms: performance.now() - started });
      };
      const req = http.request({ host: "127.0.0.1", port: this.port, path: absolute ? path : this.prefix + path, method, headers, agent: this.agent }, (res) => {
        const chunks = [];
        res.on("data", (chunk) => {
          if (read) chunks.push(chunk);
        });
        res.on("end", () => done({ status: res.statusCode ?? 0, body: read ? Buffer.concat(chunks).toString("utf8") : undefined }));
        res.on("error", (error) => done({ status: 0, error: error.message }));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on("error", (error) => done({ status: 0, error: error.message }));
      req.end(payload);
    });
  }

  /** Sends and parses the JSON answer (body undefined when there is none or it is not JSON). */
  async json(method, path, body, options = {}) {
    const res = await this.send(method, path, { ...options, body, read: true });
    let parsed;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      parsed = undefined;
    }
    return { ...res, body: parsed, text: res.body };
  }

  close() {
    this.agent.destroy();
  }
}

/** POST without the SCIM prefix (operator API). */
export async function postJson(origin, path, token, body, timeoutMs = 30_000) {
  const url = assertLoopback(new URL(path, origin).href);
  const res = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}
