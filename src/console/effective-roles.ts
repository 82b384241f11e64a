/**
 * The roles the console shows for a user. Until the roles issue (12) lands, they are what the
 * IdP stored on the user: `userType` and `roles[].value` (RFC 7643 §4.1.1, §4.1.2). Once it
 * lands, switch this one function to the computed effective roles.
 */
export interface ShownRoles {
  userType: string | null;
  roles: string[];
}

export function effectiveRoles(doc: Record<string, unknown>): ShownRoles {
  const userType = typeof doc.userType === "string" ? doc.userType : null;
  const roles = Array.isArray(doc.roles)
    ? doc.roles.flatMap((r: unknown) => {
        if (typeof r === "string") return [r];
        if (r && typeof r === "object" && typeof (r as { value?: unknown }).value === "string") return [(r as { value: string }).value];
        return [];
      })
    : [];
  return { userType, roles };
}
