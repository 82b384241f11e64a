/**
 * D1 refuses a row over 2,000,000 bytes (../shared/PRODUCTION-LIMITS.md). A resource's row
 * is its JSON document plus a few short indexed columns (userName and displayName ≤ 256
 * characters, externalId ≤ 1,024), so the document is capped at 1 MiB: the row stays under
 * 2 MB whatever the characters. A request body is capped at 1 MiB too, but PATCH adds can
 * grow a stored document past it one request at a time; such a PATCH gets 413.
 */
import { scimErrors } from "../scim/errors";
import type { ScimDocument } from "../scim/schema";

export const MAX_DOCUMENT_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/** Throws 413 when the document, as stored (JSON, UTF-8), passes MAX_DOCUMENT_BYTES. */
export function checkDocumentSize(doc: ScimDocument): void {
  const text = JSON.stringify(doc);
  // A UTF-16 unit is at most 3 UTF-8 bytes: only count exactly when that could matter.
  const bytes = text.length * 3 <= MAX_DOCUMENT_BYTES ? text.length : encoder.encode(text).byteLength;
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw scimErrors.payloadTooLarge(`The resource would be ${bytes} bytes stored; at most ${MAX_DOCUMENT_BYTES} bytes are kept per resource.`);
  }
}
