import { expect } from "vitest";
import { bodyOf, type ScimErrorJson } from "./http";

/** Asserts an RFC 7644 §3.12 error: status code, the status string in the body, scimType, a detail. */
export async function expectScimError(res: Response, status: number, scimType?: string): Promise<ScimErrorJson> {
  const body = await bodyOf<ScimErrorJson>(res);
  const context = JSON.stringify(body);
  expect(res.status, context).toBe(status);
  expect(res.headers.get("Content-Type"), context).toMatch(/^application\/scim\+json/);
  expect(body.schemas, context).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
  expect(body.status, context).toBe(String(status));
  expect(body.scimType, context).toBe(scimType);
  expect(body.detail, context).toEqual(expect.any(String));
  expect(body.detail.length, context).toBeGreaterThan(0);
  return body;
}
