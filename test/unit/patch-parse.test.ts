import { describe, expect, it } from "vitest";
import type { Result } from "../../src/scim/errors";
import { MAX_OPERATIONS, parsePatchRequest, type PatchOperation } from "../../src/scim/patch";
import { ENTERPRISE, PATCH_OP } from "../support/urns";

const show = (v: unknown): string => JSON.stringify(v);

const request = (...ops: unknown[]): Record<string, unknown> => ({ schemas: [PATCH_OP], Operations: ops });

function parsed(body: unknown): PatchOperation[] {
  const r = parsePatchRequest(body);
  if (!r.ok) throw new Error(`expected ${show(body)} to parse, got ${r.error.scimType}: ${r.error.message}`);
  return r.value;
}

function rejected(result: Result<unknown>, scimType: string, input: unknown, mentions?: string): void {
  if (result.ok) throw new Error(`expected ${show(input)} to be rejected with ${scimType}, got ${show(result.value)}`);
  expect(result.error.status, `status for ${show(input)}`).toBe(400);
  expect(result.error.scimType, `scimType for ${show(input)}: ${result.error.message}`).toBe(scimType);
  if (mentions !== undefined) expect(result.error.message, `detail for ${show(input)}`).toContain(mentions);
}

const rejects = (body: unknown, scimType: string, mentions?: string): void =>
  rejected(parsePatchRequest(body), scimType, body, mentions);

describe("parsePatchRequest: the PatchOp envelope (RFC 7644 §3.5.2)", () => {
  it("accepts the PatchOp URN in any case and Operations under any spelling", () => {
    for (const body of [
      { schemas: [PATCH_OP], Operations: [{ op: "add", path: "title", value: "x" }] },
      { schemas: [PATCH_OP.toUpperCase()], operations: [{ op: "add", path: "title", value: "x" }] },
      { Schemas: [PATCH_OP], OPERATIONS: [{ op: "add", path: "title", value: "x" }] },
    ]) {
      expect(parsed(body), show(body)).toHaveLength(1);
    }
  });

  it.each([
    ["a non-object body", "[]"],
    ["a string body", '"Operations"'],
    ["null", "null"],
    ["missing schemas", show({ Operations: [{ op: "add", path: "title", value: "x" }] })],
    ["schemas without the PatchOp URN", show({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], Operations: [{ op: "add", path: "title", value: "x" }] })],
    ["schemas that is not an array", show({ schemas: PATCH_OP, Operations: [{ op: "add", path: "title", value: "x" }] })],
    ["missing Operations", show({ schemas: [PATCH_OP] })],
    ["empty Operations", show({ schemas: [PATCH_OP], Operations: [] })],
    ["Operations that is an object", show({ schemas: [PATCH_OP], Operations: { op: "add" } })],
    ["an operation that is not an object", show(request("add"))],
    ["Operations given twice in different cases", show({ schemas: [PATCH_OP], Operations: [{ op: "add", path: "a", value: 1 }], operations: [] })],
  ])("answers invalidSyntax to %s: %s", (_, json) => {
    rejects(JSON.parse(json), "invalidSyntax");
  });

  it(`accepts ${MAX_OPERATIONS} operations and answers tooMany to one more`, () => {
    const op = { op: "replace", path: "active", value: true };
    expect(parsed(request(...Array.from({ length: MAX_OPERATIONS }, () => op)))).toHaveLength(MAX_OPERATIONS);
    rejects(request(...Array.from({ length: MAX_OPERATIONS + 1 }, () => op)), "tooMany");
  });

  it("counts the operations a path-less value expands into against the bound", () => {
    const value = Object.fromEntries(Array.from({ length: MAX_OPERATIONS + 1 }, (_, i) => [`attr${i}`, "x"]));
    rejects(request({ op: "replace", value }), "tooMany");
  });
});

describe("parsePatchRequest: op names", () => {
  it.each(["add", "Add", "ADD", "replace", "Replace", "REPLACE", "rEpLaCe"])("accepts %s (Entra ID capitalises ops)", (op) => {
    const [first] = parsed(request({ op, path: "title", value: "x" }));
    expect(first?.op, op).toBe(op.toLowerCase());
  });

  it.each(["remove", "Remove", "REMOVE"])("accepts %s", (op) => {
    expect(parsed(request({ op, path: "title" }))[0]?.op, op).toBe("remove");
  });

  it.each([["copy"], ["move"], ["test"], ["Copy"], [""], [7], [null]])("answers invalidSyntax naming op %j", (op) => {
    const body = request({ op, path: "title", value: "x" });
    rejects(body, "invalidSyntax", show(op));
  });

  it("answers invalidSyntax to an operation without op", () => {
    rejects(request({ path: "title", value: "x" }), "invalidSyntax");
  });

  it("reads op, path and value under any spelling of their names", () => {
    const [first] = parsed(request({ Op: "Replace", Path: "title", Value: "x" }));
    expect(first).toMatchObject({ op: "replace", pathText: "title", value: "x" });
  });
});

describe("parsePatchRequest: paths and values", () => {
  it("parses paths with parsePatchPath", () => {
    const [first] = parsed(request({ op: "Replace", path: 'emails[type eq "work"].value', value: "a@example.com" }));
    expect(first?.path).toEqual({
      path: { attr: "emails" },
      valueFilter: { op: "compare", path: { attr: "type" }, operator: "eq", value: "work" },
      subAttr: "value",
    });
    expect(first?.pathText).toBe('emails[type eq "work"].value');
  });

  it.each(['emails[type eq]', "emails[", "name..givenName", "x' OR 1=1--", 'members[value eq "a"'])(
    "answers invalidPath to the unparsable path %s",
    (path) => {
      rejects(request({ op: "remove", path }), "invalidPath", show(path));
    },
  );

  it("answers invalidPath to a path that is not a string", () => {
    rejects(request({ op: "remove", path: 42 }), "invalidPath");
  });

  it("answers noTarget to remove without a path (RFC 7644 §3.5.2.2)", () => {
    rejects(request({ op: "remove" }), "noTarget");
    rejects(request({ op: "Remove", value: [{ value: "u1" }] }), "noTarget");
    rejects(request({ op: "remove", path: "" }), "noTarget");
  });

  it("answers invalidValue to add or replace without a value", () => {
    rejects(request({ op: "add", path: "title" }), "invalidValue");
    rejects(request({ op: "replace", path: "title" }), "invalidValue");
    rejects(request({ op: "add", path: "title", value: null }), "invalidValue");
  });

  it("keeps replace with a null value: it unassigns the attribute", () => {
    expect(parsed(request({ op: "replace", path: "title", value: null }))[0]).toMatchObject({ op: "replace", value: null });
  });

  it.each([["a string", "x"], ["an array", [{ active: false }]], ["null", null], ["nothing", undefined]])(
    "answers invalidValue to a path-less add/replace whose value is %s",
    (_, value) => {
      rejects(request({ op: "replace", value }), "invalidValue");
      rejects(request({ op: "add", value }), "invalidValue");
    },
  );

  it("numbers the operation in error details", () => {
    rejects(request({ op: "add", path: "title", value: "x" }, { op: "copy", path: "title" }), "invalidSyntax", "Operation 2");
  });

  it("keeps each operation's position in the request", () => {
    const ops = parsed(request({ op: "add", path: "title", value: "x" }, { op: "replace", value: { a: 1, b: 2 } }));
    expect(ops.map((o) => o.index)).toEqual([0, 1, 1]);
  });
});

describe("parsePatchRequest: path-less values become one operation per key", () => {
  it("expands Okta's deactivate value {active:false}", () => {
    const body = { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] };
    expect(parsed(body)).toEqual([
      { op: "replace", path: { path: { attr: "active" } }, pathText: "active", value: false, index: 0, fromValueKey: true },
    ]);
  });

  it("expands Entra's aadOptscim062020 keys that are paths", () => {
    const body = request({
      op: "replace",
      value: { displayName: "Dr. Jane Doe", "name.givenName": "Jane", [`${ENTERPRISE}:employeeNumber`]: "701984" },
    });
    const ops = parsed(body);
    expect(ops.map((o) => [o.pathText, o.path.path, o.value]), show(body)).toEqual([
      ["displayName", { attr: "displayName" }, "Dr. Jane Doe"],
      ["name.givenName", { attr: "name", sub: "givenName" }, "Jane"],
      [`${ENTERPRISE}:employeeNumber`, { urn: ENTERPRISE, attr: "employeeNumber" }, "701984"],
    ]);
    expect(ops.every((o) => o.fromValueKey === true)).toBe(true);
  });

  it("expands an extension object keyed by its schema URN (RFC 7643 §3.3)", () => {
    const body = request({ op: "add", value: { [ENTERPRISE.toUpperCase()]: { employeeNumber: "1", manager: { value: "m" } } } });
    expect(parsed(body).map((o) => [o.pathText, o.value])).toEqual([
      [`${ENTERPRISE}:employeeNumber`, "1"],
      [`${ENTERPRISE}:manager`, { value: "m" }],
    ]);
  });

  it("expands an extension URN given as the path", () => {
    const body = request({ op: "replace", path: ENTERPRISE, value: { department: "R&D" } });
    expect(parsed(body).map((o) => o.pathText)).toEqual([`${ENTERPRISE}:department`]);
  });

  it("skips schemas, and nulls under add (null = unassigned, nothing to add)", () => {
    const body = request({ op: "add", value: { schemas: ["x"], title: null, nickName: "B" } });
    expect(parsed(body).map((o) => o.pathText)).toEqual(["nickName"]);
  });

  it("keeps nulls under replace (they unassign)", () => {
    expect(parsed(request({ op: "replace", value: { title: null } }))[0]).toMatchObject({ pathText: "title", value: null });
  });

  it("answers invalidPath to a key that is not a path", () => {
    rejects(request({ op: "replace", value: { "emails[type eq]": "x" } }), "invalidPath");
  });

  it("never lets __proto__, constructor or prototype keys through, nor pollutes prototypes", () => {
    const body: unknown = JSON.parse(
      `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","value":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1,"title":"x"}}]}`,
    );
    expect(parsed(body).map((o) => o.pathText)).toEqual(["title"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
