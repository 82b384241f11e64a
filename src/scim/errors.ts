/** SCIM error responses, RFC 7644 §3.12: the one place that builds every error body. */

export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export const SCIM_MEDIA_TYPE = "application/scim+json";
export const SCIM_CONTENT_TYPE = `${SCIM_MEDIA_TYPE}; charset=utf-8`;

/** The `scimType` keywords of RFC 7644 §3.12 table 9. */
export type ScimType =
  | "invalidFilter"
  | "tooMany"
  | "uniqueness"
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive"
  /** RFC 9865 §3: a cursor this server did not issue, or cannot read. */
  | "invalidCursor";

export interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  /** A string, not a number (RFC 7644 §3.12); IdPs reject numeric statuses. */
  status: string;
  scimType?: ScimType;
  detail: string;
}

/** Thrown anywhere below the routes; the app's error handler turns it into a response. */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, detail: string, scimType?: ScimType, headers: Record<string, string> = {}) {
    super(detail);
    this.name = "ScimError";
    this.status = status;
    this.scimType = scimType;
    this.headers = headers;
  }

  toBody(): ScimErrorBody {
    const body: ScimErrorBody = { schemas: [ERROR_SCHEMA], status: String(this.status), detail: this.message };
    if (this.scimType) body.scimType = this.scimType;
    return body;
  }

  toResponse(): Response {
    return new Response(JSON.stringify(this.toBody()), {
      status: this.status,
      headers: { "Content-Type": SCIM_CONTENT_TYPE, ...this.headers },
    });
  }
}

/** Shorthands for the common cases, so call sites read as the RFC does. */
export const scimErrors = {
  invalidSyntax: (detail: string) => new ScimError(400, detail, "invalidSyntax"),
  invalidValue: (detail: string) => new ScimError(400, detail, "invalidValue"),
  invalidFilter: (detail: string) => new ScimError(400, detail, "invalidFilter"),
  invalidPath: (detail: string) => new ScimError(400, detail, "invalidPath"),
  noTarget: (detail: string) => new ScimError(400, detail, "noTarget"),
  mutability: (detail: string) => new ScimError(400, detail, "mutability"),
  sensitive: (detail: string) => new ScimError(400, detail, "sensitive"),
  uniqueness: (detail: string) => new ScimError(409, detail, "uniqueness"),
  tooMany: (detail: string) => new ScimError(400, detail, "tooMany"),
  invalidCursor: (detail: string) => new ScimError(400, detail, "invalidCursor"),
  unauthorized: (detail: string) =>
    new ScimError(401, detail, undefined, { "WWW-Authenticate": 'Bearer realm="SCIM"' }),
  forbidden: (detail: string) => new ScimError(403, detail),
  notFound: (detail: string) => new ScimError(404, detail),
  preconditionFailed: (detail: string) => new ScimError(412, detail),
  payloadTooLarge: (detail: string) => new ScimError(413, detail),
  unsupportedMediaType: (detail: string) => new ScimError(415, detail),
  notImplemented: (detail: string) => new ScimError(501, detail),
} as const;

/** Parser-style result used by the pure SCIM modules instead of throwing. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ScimError };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: ScimError): Result<T> => ({ ok: false, error });

/** The value of a Result, or its error thrown (for HTTP handlers, where throwing is the answer). */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}
