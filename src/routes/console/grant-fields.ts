/** The role and domains fields of the console's forms, validated as the operator API validates them. */
import { z } from "zod";
import { tenantSettingsFields } from "../tenant-settings";

export type GrantErrors = Partial<Record<"role" | "domains", string>>;
export type ParsedGrants = { ok: true; role: string | null; domains: string[] } | { ok: false; errors: GrantErrors };

const grants = z.object({ role: tenantSettingsFields.defaultRole, domains: tenantSettingsFields.domainRestrictions });

/** `domains` as typed: separated by commas, spaces, semicolons or new lines. */
export function parseGrants(roleText: string, domainsText: string): ParsedGrants {
  const typed = domainsText.split(/[\s,;]+/).filter((d) => d !== "");
  const result = grants.safeParse({ role: roleText.trim() || null, domains: typed });
  if (result.success) return { ok: true, role: result.data.role, domains: [...new Set(result.data.domains)] };
  const errors: GrantErrors = {};
  for (const issue of result.error.issues) {
    const [field, index] = issue.path;
    if (field !== "role" && field !== "domains") continue;
    const message = typeof index === "number" ? `“${typed[index] ?? ""}” ${issue.message}` : issue.message;
    errors[field] = errors[field] ? `${errors[field]}; ${message}` : message;
  }
  return { ok: false, errors };
}
