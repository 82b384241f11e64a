/**
 * JSON response bodies written piece by piece, for responses too large to hold in the
 * Worker's memory at once (128 MB per isolate): a big group's members, a list page of large
 * documents. Each piece is produced when the client reads on, so D1 is read a page at a time.
 * Status and headers are fixed before the first byte; a failure later cuts the body short,
 * and the client sees invalid JSON rather than a partial resource that parses.
 */
import { SCIM_CONTENT_TYPE } from "../../scim/errors";
import type { JsonObject } from "../../scim/schema";

/**
 * `outer` serialised around the value at `key`: the text before it and the text after it. The
 * placeholder is a value that cannot occur in a rendered resource, made per call: Workers allow
 * no random values in global scope (the Worker would not start).
 */
export function splitAround(outer: JsonObject, key: string): [string, string] {
  const slot = `\u0000stream-slot-${crypto.randomUUID()}`;
  const text = JSON.stringify({ ...outer, [key]: slot });
  const [before, after] = text.split(JSON.stringify(slot));
  if (before === undefined || after === undefined) throw new Error("stream slot not found in the rendered JSON");
  return [before, after];
}

export function streamedJson(parts: AsyncGenerator<string, void>, status: number, headers: Record<string, string>): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await parts.next();
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
    async cancel() {
      await parts.return(undefined);
    },
  });
  return new Response(body, { status, headers: { "Content-Type": SCIM_CONTENT_TYPE, ...headers } });
}
