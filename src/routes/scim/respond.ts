/** SCIM responses are application/scim+json (RFC 7644 §3.1). */
import { SCIM_CONTENT_TYPE } from "../../scim/errors";

export function scimJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": SCIM_CONTENT_TYPE, ...headers },
  });
}
