/** The PATCH engine (RFC 7644 §3.5.2): pure, runtime-free. */
export { MAX_OPERATIONS, PATCH_OP_SCHEMA, parsePatchRequest } from "./parse";
export { applyPatch, memberOnlyPatch } from "./apply";
export type { MemberChanges, PatchOpName, PatchOperation, PatchOutcome } from "./types";
