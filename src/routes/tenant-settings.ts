/** Tenant settings as the operator API and the setup page accept them. */
import { z } from "zod";

/** An email domain as admins type it (`example.com`), stored lower case. */
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a domain name like example.com");

export const tenantSettingsFields = {
  provider: z.enum(["okta", "entra", "generic"]),
  userSync: z.boolean(),
  groupSync: z.boolean(),
  defaultRole: z.string().trim().min(1).max(100).nullable(),
  domainRestrictions: z.array(domain).max(100),
};

/**
 * Unknown role and entitlement values (issue 12): refused with 400 ("strict") or stored and
 * reported ("lenient"). The operator's setting only: the setup page does not offer it.
 */
export const roleValidationField = z.enum(["strict", "lenient"]);
