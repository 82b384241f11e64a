/**
 * Response shapes the HTTP tests read back. Only what is common to several files lives here;
 * each file keeps its own UserJson, which lists the attributes that file checks.
 */

/** A ListResponse (RFC 7644 §3.4.2); `nextCursor` only on cursor-paged lists. */
export interface ListJson<T> {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
  nextCursor?: string;
}

/** A group's `members` entry as the server returns it. */
export interface MemberJson {
  value: string;
  display?: string;
  type?: string;
  $ref?: string;
}

export interface GroupJson {
  schemas: string[];
  id: string;
  displayName: string;
  externalId?: string;
  members?: MemberJson[];
  meta: { resourceType: string; location: string; version: string; created: string; lastModified: string };
}
