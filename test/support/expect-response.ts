import { expect } from "vitest";
import { bodyOf } from "./http";
import type { ListJson } from "./scim-json";
import { LIST_RESPONSE } from "./urns";

/** Reads a JSON body and asserts the status, with the body as the failure message. */
export async function expectJson<T>(res: Response, status: number): Promise<T> {
  const body = await bodyOf<T>(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

/** Asserts a 204 with an empty body; `what` names the request in the failure message. */
export async function expectNoContent(res: Response, what: string): Promise<void> {
  const text = await res.text();
  expect(res.status, `${what}: ${text}`).toBe(204);
  expect(text, what).toBe("");
}

/** Asserts a ListResponse's schema, its integer counts and its Resources array. */
export function expectListResponse(body: ListJson<unknown>): void {
  const context = JSON.stringify(body);
  expect(body.schemas, context).toEqual([LIST_RESPONSE]);
  for (const key of ["totalResults", "startIndex", "itemsPerPage"] as const) {
    expect(Number.isInteger(body[key]), `${key} must be a JSON integer: ${context}`).toBe(true);
  }
  expect(Array.isArray(body.Resources), context).toBe(true);
}
