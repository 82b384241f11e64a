/** RFC 7644 §3.4.2: the ListResponse envelope; numbers are JSON integers (Okta checks). */
export const LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

export interface ListResponse<T> {
  schemas: [typeof LIST_RESPONSE_SCHEMA];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
  nextCursor?: string;
}

export function listResponse<T>(resources: T[], totalResults: number, startIndex: number, nextCursor?: string): ListResponse<T> {
  const body: ListResponse<T> = {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
  if (nextCursor !== undefined) body.nextCursor = nextCursor;
  return body;
}
