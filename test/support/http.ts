/** Talks to the Worker the way an IdP and an operator do: HTTP through the loopback export. */
import { exports } from "cloudflare:workers";
import { TEST_ADMIN_TOKEN } from "./admin-token";
import { TEST_PUBLIC_URL } from "./public-url";

export const ORIGIN = TEST_PUBLIC_URL;
export const SCIM_JSON = "application/scim+json";

export interface TestTenant {
  id: string;
  token: string;
  baseUrl: string;
  /** The D1 binding holding its data (`tenant.shard` of the creation response). */
  shard: string;
  /** Only when created with `setupLink: true`. */
  setupUrl?: string;
}

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(path.startsWith("http") ? path : `${ORIGIN}${path}`, init));
}

export function admin(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("Authorization", `Bearer ${TEST_ADMIN_TOKEN}`);
  if (json !== undefined) headers.set("Content-Type", "application/json");
  return call(`/admin${path}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
}

/** A fresh tenant per test: storage is only isolated per file. */
export async function createTenant(settings: Record<string, unknown> = {}): Promise<TestTenant> {
  const res = await admin("/tenants", {
    method: "POST",
    json: { name: `Tenant ${crypto.randomUUID().slice(0, 8)}`, provider: "generic", ...settings },
  });
  const body = await res.json<{ tenant: { id: string; shard: string }; scim: { baseUrl: string; token: string }; setupUrl?: string }>();
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.tenant.id, token: body.scim.token, baseUrl: body.scim.baseUrl, shard: body.tenant.shard, setupUrl: body.setupUrl };
}

/** A SCIM call with the tenant's token; `json` is sent as application/scim+json. */
export function scim(
  tenant: Pick<TestTenant, "baseUrl" | "token">,
  path: string,
  init: RequestInit & { json?: unknown; token?: string | null } = {},
): Promise<Response> {
  const { json, token, ...rest } = init;
  const headers = new Headers(rest.headers);
  const bearer = token === undefined ? tenant.token : token;
  if (bearer !== null) headers.set("Authorization", `Bearer ${bearer}`);
  if (json !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", SCIM_JSON);
  return call(`${tenant.baseUrl}${path}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
}

export interface ScimErrorJson {
  schemas: string[];
  status: string;
  scimType?: string;
  detail: string;
}

/** Reads a response body as JSON, with the raw text in the error when it is not JSON. */
export async function bodyOf<T = Record<string, unknown>>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 500)}`);
  }
}
