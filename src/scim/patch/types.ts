/** Shapes shared by the PATCH parser and the apply step (RFC 7644 §3.5.2). */
import type { PatchPath } from "../filter";
import type { ScimDocument } from "../schema";

export type PatchOpName = "add" | "remove" | "replace";

/**
 * One normalised operation. Every operation has a path: a path-less add/replace is expanded
 * into one operation per key of its value (see `fromValueKey`).
 */
export interface PatchOperation {
  op: PatchOpName;
  path: PatchPath;
  /** The path as the client wrote it, for error details. */
  pathText: string;
  /** The raw value; `undefined` when the request carried none (a plain `remove`). */
  value?: unknown;
  /** Position of the operation in the request's `Operations` (0-based), for error details. */
  index: number;
  /**
   * Set when the operation is one key of a path-less add/replace value (RFC 7644 §3.5.2.1,
   * §3.5.2.3; Okta's `{"active":false}`, Entra's `{"name.givenName":…}`). Such a value reads
   * like a resource body, so unknown attributes in it are ignored as in POST/PUT, and an `id`
   * equal to the resource's own id is ignored (Okta's group rename op repeats it).
   */
  fromValueKey?: boolean;
  /**
   * Set on a `remove` whose path is a schema URN alone (`urn:…:enterprise:2.0:User`): the whole
   * extension goes, and its URN leaves `schemas` (RFC 7644 §3.5.2.2; issue 13).
   */
  wholeExtension?: string;
}

/**
 * Group membership changes, kept out of the document (members are stored elsewhere). Storage
 * applies them as: if `clear`, drop every member; then drop `remove`; then insert `add`. `add`
 * and `remove` are disjoint, ids in request order, deduplicated.
 */
export interface MemberChanges {
  clear: boolean;
  add: string[];
  remove: string[];
  /**
   * The `display` the client sent with added members, by member id: shown for a user member
   * that has no displayName of its own (clients compare what they wrote with what they read).
   */
  displays?: Map<string, string>;
}

export interface PatchOutcome {
  doc: ScimDocument;
  /** False when `doc` deep-equals the input document (no version bump); says nothing of `members`. */
  changed: boolean;
  members: MemberChanges;
}
