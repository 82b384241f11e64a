/**
 * The resource types this server serves (RFC 7643 §6) and what each can do. The routes, the
 * root search and /Bulk dispatch through this list, so a new type (a read-only Roles, say)
 * is one entry here, its operations, and its schema in scim/schema/.
 */
import { groupOperations } from "./groups";
import type { ResourceTypeEntry } from "./resource-operations";
import { userOperations } from "./users";

export const RESOURCE_TYPES: readonly ResourceTypeEntry[] = [
  { name: "User", endpoint: "Users", scope: "users", operations: userOperations },
  { name: "Group", endpoint: "Groups", scope: "groups", operations: groupOperations },
];

/** The type served at an endpoint (`Users`), in any case, as the routes accept it. */
export function resourceTypeAt(endpoint: string): ResourceTypeEntry | undefined {
  const lower = endpoint.toLowerCase();
  return RESOURCE_TYPES.find((t) => t.endpoint.toLowerCase() === lower);
}
