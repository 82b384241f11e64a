import { describe, expect, it } from "vitest";
import type { Result } from "../../src/scim/errors";
import { applyPatch, memberOnlyPatch, parsePatchRequest, type MemberChanges, type PatchOutcome } from "../../src/scim/patch";
import type { ScimDocument } from "../../src/scim/schema";
import { GROUP as CORE, PATCH_OP } from "../support/urns";

const GROUP_ID = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b";
const show = (v: unknown): string => JSON.stringify(v);

const storedGroup = (): ScimDocument => ({ schemas: [CORE], displayName: "Engineering", externalId: "eng" });
const request = (...ops: unknown[]): Record<string, unknown> => ({ schemas: [PATCH_OP], Operations: ops });
const changes = (c: Partial<MemberChanges>): MemberChanges => ({ clear: false, add: [], remove: [], ...c });

function patch(body: unknown, doc: ScimDocument = storedGroup()): Result<PatchOutcome> {
  const ops = parsePatchRequest(body);
  if (!ops.ok) return ops;
  return applyPatch("Group", Object.freeze(doc), ops.value, GROUP_ID);
}

function applied(body: unknown, doc?: ScimDocument): PatchOutcome {
  const r = patch(body, doc);
  if (!r.ok) throw new Error(`expected ${show(body)} to apply, got ${r.error.scimType}: ${r.error.message}`);
  return r.value;
}

function rejected(body: unknown, scimType: string, mentions?: string): void {
  const r = patch(body);
  if (r.ok) throw new Error(`expected ${show(body)} to be rejected with ${scimType}, got ${show(r.value)}`);
  expect(r.error.status, `status for ${show(body)}`).toBe(400);
  expect(r.error.scimType, `scimType for ${show(body)}: ${r.error.message}`).toBe(scimType);
  if (mentions !== undefined) expect(r.error.message, `detail for ${show(body)}`).toContain(mentions);
}

describe("Okta group push", () => {
  it("applies the multi-op membership request with its rename op", () => {
    const body = {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [
        { op: "replace", value: { id: GROUP_ID, displayName: "Engineering Team" } },
        { op: "remove", path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]' },
        { op: "add", path: "members", value: [{ value: "23a35c27-23d3-4c03-b4c5-6443c09e7173", display: "test.user@okta.local" }] },
      ],
    };
    const out = applied(body);
    expect(out.doc, show(body)).toEqual({ ...storedGroup(), displayName: "Engineering Team" });
    expect(out.changed).toBe(true);
    expect(out.members, show(body)).toEqual(
      changes({
        add: ["23a35c27-23d3-4c03-b4c5-6443c09e7173"],
        remove: ["89bb1940-b905-4575-9e7f-6f887cfb368e"],
        // Kept for the member's display (shown when the user has no displayName of its own).
        displays: new Map([["23a35c27-23d3-4c03-b4c5-6443c09e7173", "test.user@okta.local"]]),
      }),
    );
  });

  it("reports no document change for a rename op that repeats the current name", () => {
    const body = request({ op: "replace", value: { id: GROUP_ID, displayName: "Engineering" } }, { op: "add", path: "members", value: [{ value: "u1" }] });
    const out = applied(body);
    expect(out.changed, show(body)).toBe(false);
    expect(out.members).toEqual(changes({ add: ["u1"] }));
  });

  it("answers mutability to a rename op carrying another group's id", () => {
    rejected(request({ op: "replace", value: { id: "another-group", displayName: "Engineering" } }), "mutability", "id");
  });

  it("replaces all members with replace path members", () => {
    const body = request({ op: "replace", path: "members", value: [{ value: "u1", display: "One" }, { value: "u2" }] });
    expect(applied(body).members, show(body)).toEqual(changes({ clear: true, add: ["u1", "u2"], displays: new Map([["u1", "One"]]) }));
  });

  it("empties the group with replace members []", () => {
    const body = request({ op: "replace", path: "members", value: [] });
    expect(applied(body).members, show(body)).toEqual(changes({ clear: true }));
  });
});

describe("Entra ID group membership", () => {
  it("adds several members with $ref: null", () => {
    const body = {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "Add", path: "members", value: [{ $ref: null, value: "f648f8d5-ea3e-4cbb-b4b8-8d0e2d1f2c4a" }, { $ref: null, value: "a1b2" }] }],
    };
    const out = applied(body);
    expect(out.members, show(body)).toEqual(changes({ add: ["f648f8d5-ea3e-4cbb-b4b8-8d0e2d1f2c4a", "a1b2"] }));
    expect(out.changed).toBe(false);
    expect(out.doc).toEqual(storedGroup());
  });

  it("removes only the listed members with a Remove value array, never all", () => {
    const body = { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Remove", path: "members", value: [{ value: "u1091" }] }] };
    expect(applied(body).members, show(body)).toEqual(changes({ remove: ["u1091"] }));
  });

  it("removes a member by filter (aadOptscim062020)", () => {
    const body = request({ op: "remove", path: 'members[value eq "7f4bc1a3-2b4c-4b8e-9c27-1f1e6f7d8a90"]' });
    expect(applied(body).members, show(body)).toEqual(changes({ remove: ["7f4bc1a3-2b4c-4b8e-9c27-1f1e6f7d8a90"] }));
  });

  it("renames with Replace displayName in any case", () => {
    const body = request({ op: "Replace", path: "DisplayName", value: "Eng" });
    expect(applied(body).doc.displayName, show(body)).toBe("Eng");
  });
});

describe("members operations fold in request order", () => {
  it("removes every member with remove members and no value (RFC 7644 §3.5.2.2)", () => {
    const body = request({ op: "add", path: "members", value: [{ value: "u1" }] }, { op: "remove", path: "members" }, { op: "add", path: "members", value: [{ value: "u2" }] });
    expect(applied(body).members, show(body)).toEqual(changes({ clear: true, add: ["u2"] }));
  });

  it("removes several members with an or-chain of value eq", () => {
    const body = request({ op: "remove", path: 'members[value eq "a" or value eq "b" or VALUE eq "c"]' });
    expect(applied(body).members, show(body)).toEqual(changes({ remove: ["a", "b", "c"] }));
  });

  it("lets a later add undo an earlier remove and vice versa, deduplicating ids", () => {
    const body = request(
      { op: "add", path: "members", value: [{ value: "a" }, { value: "b" }, { value: "a" }] },
      { op: "remove", path: 'members[value eq "a"]' },
      { op: "remove", path: "members", value: [{ value: "c" }, { value: "c" }] },
      { op: "add", path: "members", value: [{ value: "c" }] },
    );
    expect(applied(body).members, show(body)).toEqual(changes({ add: ["b", "c"], remove: ["a"] }));
  });

  it("compares member ids exactly (members.value is caseExact)", () => {
    const body = request({ op: "add", path: "members", value: [{ value: "ABC" }, { value: "abc" }] });
    expect(applied(body).members.add, show(body)).toEqual(["ABC", "abc"]);
  });

  it("accepts members in a path-less add", () => {
    const body = request({ op: "add", value: { members: [{ value: "u9", type: "User" }] } });
    expect(applied(body).members, show(body)).toEqual(changes({ add: ["u9"] }));
  });

  it("accepts a lone member object where an array is expected", () => {
    const body = request({ op: "add", path: "members", value: { value: "u1" } });
    expect(applied(body).members, show(body)).toEqual(changes({ add: ["u1"] }));
  });
});

describe("members refusals", () => {
  it.each([
    ['members[display eq "Alice"]'],
    ['members[value ne "a"]'],
    ['members[value eq "a" and type eq "User"]'],
    ["members[value pr]"],
  ])("answers invalidPath naming the unsupported filter %s", (path) => {
    rejected(request({ op: "remove", path }), "invalidPath", path.slice(0, 9));
  });

  it("answers invalidPath to member sub-attributes and to filters outside remove", () => {
    rejected(request({ op: "replace", path: "members.display", value: "x" }), "invalidPath");
    rejected(request({ op: "replace", path: 'members[value eq "a"].display', value: "x" }), "invalidPath");
    rejected(request({ op: "add", path: 'members[value eq "a"]', value: { value: "a" } }), "invalidPath");
  });

  it.each([
    [["u1"]],
    [[{}]],
    [[{ value: 1 }]],
    [[{ value: "" }]],
    [[{ value: "u1", display: 5 }]],
    [[{ value: "u1", $ref: {} }]],
    ["u1"],
  ])("answers invalidValue to the member value %j", (value) => {
    rejected(request({ op: "add", path: "members", value }), "invalidValue");
  });
});

describe("group attributes", () => {
  it("applies displayName's rules from POST", () => {
    rejected(request({ op: "replace", path: "displayName", value: " " }), "invalidValue");
    rejected(request({ op: "replace", path: "displayName", value: "Eng\u0000" }), "invalidValue");
    rejected(request({ op: "remove", path: "displayName" }), "invalidValue", "displayName");
  });

  it("replaces externalId and answers mutability to id and meta", () => {
    expect(applied(request({ op: "replace", path: "externalId", value: "ENG" })).doc.externalId).toBe("ENG");
    rejected(request({ op: "replace", path: "id", value: "x" }), "mutability");
    rejected(request({ op: "add", path: "meta.version", value: 'W/"1"' }), "mutability");
  });

  it("answers invalidPath to User attributes", () => {
    rejected(request({ op: "replace", path: "userName", value: "x" }), "invalidPath");
  });

  it("is atomic: member changes are dropped when a later operation fails", () => {
    const r = patch(request({ op: "add", path: "members", value: [{ value: "u1" }] }, { op: "replace", path: "displayName", value: "" }));
    expect(r.ok).toBe(false);
  });
});

describe("memberOnlyPatch (a PATCH of members only needs no read of the group)", () => {
  function memberOnly(body: unknown): Result<MemberChanges> | undefined {
    const ops = parsePatchRequest(body);
    if (!ops.ok) throw new Error(ops.error.message);
    return memberOnlyPatch(ops.value);
  }

  it("folds Entra's and Okta's membership operations exactly as applyPatch does", () => {
    const bodies = [
      request({ op: "Add", path: "members", value: [{ $ref: null, value: "u1" }, { value: "u2" }] }),
      request({ op: "Remove", path: "members", value: [{ value: "u1" }] }, { op: "add", path: "members", value: [{ value: "u3" }] }),
      request({ op: "remove", path: 'members[value eq "u4"]' }),
      request({ op: "replace", path: "members", value: [{ value: "u5" }] }),
      request({ op: "add", value: { members: [{ value: "u6" }] } }),
    ];
    for (const body of bodies) {
      expect(memberOnly(body), show(body)).toEqual({ ok: true, value: applied(body).members });
    }
    expect(memberOnly(bodies[1])).toEqual({ ok: true, value: changes({ add: ["u3"], remove: ["u1"] }) });
  });

  it("declines any PATCH that touches the document, or names a path that is not members", () => {
    expect(memberOnly(request({ op: "replace", value: { id: GROUP_ID, displayName: "Renamed" } }, { op: "add", path: "members", value: [{ value: "u1" }] }))).toBeUndefined();
    expect(memberOnly(request({ op: "replace", path: "displayName", value: "Renamed" }))).toBeUndefined();
    expect(memberOnly(request({ op: "add", path: "nonsense", value: "x" }))).toBeUndefined();
  });

  it("reports a bad member operation naming it, as applyPatch does", () => {
    const body = request({ op: "add", path: "members", value: [{ value: "u1" }] }, { op: "add", path: "members", value: [{ display: "no id" }] });
    const r = memberOnly(body);
    expect(r?.ok).toBe(false);
    const viaApply = patch(body);
    expect(r).toEqual(viaApply);
    if (r && !r.ok) expect(r.error.message).toMatch(/^Operation 2 /);
  });
});
