/** The SCIM schema and message URNs the tests send and expect (RFC 7643 §8.7, RFC 7644 §3). */

export const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
export const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
