/**
 * The ListResponse body (RFC 7644 §3.4.2) of one or more pages of rendered resources: one
 * JSON string when every resource is ready, else a stream (stream-body.ts) that writes the
 * resources as each part produces them. A part is one resource type's page; a root search
 * (root-search.ts) joins the pages of several types into one response.
 */
import { listResponse } from "../../scim/list-response";
import type { JsonObject } from "../../scim/schema";
import { scimJson } from "./respond";
import { splitAround, streamedJson } from "./stream-body";

/** A page of resources of one type, rendered. */
export interface RenderedPage {
  /** How many resources the page holds. */
  length: number;
  /** The resources, when every one is ready (no D1 read left). */
  inline?: JsonObject[];
  /**
   * Otherwise: their JSON text, piece by piece, reading D1 as the client consumes the body.
   * Resources are comma-separated; the first piece has no leading comma.
   */
  stream?: () => AsyncGenerator<string, void>;
}

/** A type's page with what its ListResponse says about it. */
export interface ResourcePage extends RenderedPage {
  totalResults: number;
  /** RFC 9865: set on a cursor page after which more resources follow. */
  nextCursor?: string;
}

export interface ListEnvelope {
  totalResults: number;
  startIndex: number;
  nextCursor?: string;
}

export function listBody(parts: readonly RenderedPage[], envelope: ListEnvelope): Response {
  const { totalResults, startIndex, nextCursor } = envelope;
  if (parts.every((p) => p.inline !== undefined)) {
    return scimJson(listResponse(parts.flatMap((p) => p.inline ?? []), totalResults, startIndex, nextCursor));
  }
  const shell = listResponse([], totalResults, startIndex, nextCursor) as unknown as JsonObject;
  const itemsPerPage = parts.reduce((n, p) => n + p.length, 0);
  const [before, after] = splitAround({ ...shell, itemsPerPage }, "Resources");
  async function* pieces(): AsyncGenerator<string, void> {
    yield `${before}[`;
    let written = false;
    for (const part of parts) {
      let first = true;
      const texts = part.inline ? inlineTexts(part.inline) : (part.stream?.() ?? inlineTexts([]));
      for await (const text of texts) {
        // A part's own pieces carry their commas; only the join between parts needs one.
        yield first && written ? `,${text}` : text;
        first = false;
        written = true;
      }
    }
    yield `]${after}`;
  }
  return streamedJson(pieces(), 200, {});
}

// eslint-disable-next-line @typescript-eslint/require-await -- the same shape as a streamed part
async function* inlineTexts(resources: readonly JsonObject[]): AsyncGenerator<string, void> {
  for (const [i, resource] of resources.entries()) yield `${i > 0 ? "," : ""}${JSON.stringify(resource)}`;
}
