/**
 * Request bodies: media type check (415), a size cap enforced while reading (413; the
 * Content-Length header is not trusted), UTF-8 and JSON parsing (400 invalidSyntax).
 */
import { scimErrors } from "../scim/errors";

export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Deepest nesting of arrays and objects accepted in a body. A SCIM resource or PatchOp nests
 * at most 5 levels (PatchOp → Operations → op → value → extension → sub-attribute); 64 leaves
 * room for IdP extras while keeping every recursive walk of the value far from the stack limit.
 */
export const MAX_JSON_DEPTH = 64;

/** application/scim+json and application/json, with any parameters (`; charset=utf-8`). */
const JSON_MEDIA_TYPE = /^application\/(scim\+)?json\s*(;.*)?$/i;

function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType === undefined || contentType.trim() === "" || JSON_MEDIA_TYPE.test(contentType.trim());
}

export async function readJsonBody(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const contentType = request.headers.get("Content-Type") ?? undefined;
  // No Content-Type at all is read as JSON: some IdP probes omit it (be liberal).
  if (!isJsonMediaType(contentType)) {
    throw scimErrors.unsupportedMediaType(
      `Unsupported media type '${contentType}': send application/scim+json or application/json.`,
    );
  }
  const bytes = await readCapped(request, maxBytes);
  if (bytes.byteLength === 0) throw scimErrors.invalidSyntax("The request body is empty; a JSON object is required.");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw scimErrors.invalidSyntax("The request body is not valid UTF-8.");
  }
  // Before JSON.parse: a deep value would overflow the stack of whatever walks it later
  // (validation, structuredClone to the Durable Object), and is never a real resource.
  const depth = nestingDepthExceeds(text, MAX_JSON_DEPTH);
  if (depth !== undefined) {
    throw scimErrors.invalidSyntax(`The request body nests deeper than ${MAX_JSON_DEPTH} levels (at character ${depth}).`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : "parse error";
    throw scimErrors.invalidSyntax(`The request body is not valid JSON (${reason}).`);
  }
}

async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw scimErrors.payloadTooLarge(`The request body exceeds the limit of ${maxBytes} bytes.`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * The index of the first `[` or `{` that opens level `maxDepth + 1`, or undefined. One pass
 * with a counter (no recursion, so no input can overflow the stack); brackets inside strings
 * do not count. Malformed JSON is left to JSON.parse.
 */
export function nestingDepthExceeds(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* backslash: skip the escaped character */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return undefined;
}
