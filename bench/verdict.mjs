/** The benchmark's tenant and each scenario's verdict (split from run.mjs). */
import { postJson } from "./http.mjs";

const UNAVAILABLE_STATUSES = new Set([405, 501]);

/** The benchmark's seeded tenant, on DB: the seed (seed.mjs) writes its rows into DB's file. */
export async function createTenant(origin, adminToken, shard = "DB") {
  const res = await postJson(origin, "/admin/tenants", adminToken, { name: `bench ${new Date().toISOString()}`, provider: "entra", shard });
  if (res.status !== 201 || !res.body?.tenant?.id || !res.body?.scim?.token) {
    throw new Error(`POST /admin/tenants answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
  return { tenantId: res.body.tenant.id, token: res.body.scim.token };
}

/** 405/501, or the app's "No endpoint at …" 404 (not a 404 for a missing resource). */
export function endpointMissing(probe) {
  return UNAVAILABLE_STATUSES.has(probe.status) || (probe.status === 404 && /^No endpoint/i.test(String(probe.body?.detail ?? "")));
}

export function classify(scenario, probe, statuses, networkErrors) {
  let errors = 0;
  for (const [code, n] of Object.entries(statuses)) if (Number(code) < 200 || Number(code) >= 300) errors += n;
  if (endpointMissing(probe)) return { status: "unavailable", note: `endpoint answered ${probe.status}`, errors };
  const problem = scenario.validate ? scenario.validate(probe, probe.spec) : null;
  if (problem && probe.status >= 200 && probe.status < 300) return { status: "wrong-answer", note: problem, errors };
  if (problem) return { status: "errors", note: `probe: ${problem}`, errors };
  if (errors > 0 || Object.keys(networkErrors).length > 0) return { status: "errors", errors };
  return { status: "ok", errors };
}
