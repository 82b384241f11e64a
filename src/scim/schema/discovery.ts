/**
 * Discovery documents built from the schema definitions: /ServiceProviderConfig (RFC 7643 §5),
 * /ResourceTypes (§6) and /Schemas (§7), as RFC 7644 §4 serves them.
 */
import {
  RESOURCE_TYPES,
  RESOURCE_TYPE_SCHEMA_URN,
  SCHEMAS,
  SCHEMA_SCHEMA_URN,
  SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
  sameUrn,
} from "./resource-types";
import type { AttributeDefinition, JsonObject, SchemaDefinition } from "./types";
import { CATALOG_SCHEMAS } from "../catalog-resources";

/** A resource type as /ResourceTypes shows it: User and Group, or a catalog type (Role, Entitlement). */
interface ResourceTypeLike {
  readonly id: string;
  readonly name: string;
  readonly endpoint: string;
  readonly description: string;
  readonly schema: string;
  readonly schemaExtensions: readonly { readonly schema: string; readonly required: boolean }[];
}

/** Every schema /Schemas describes: the resources', then the catalog's (issue 12). */
const DESCRIBED_SCHEMAS: readonly SchemaDefinition[] = [...SCHEMAS, ...CATALOG_SCHEMAS];

export interface ServiceProviderFeatures {
  patch: boolean;
  /** RFC 7644 §3.7: the limits are advertised (0 when unsupported: §5 requires them anyway). */
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  filter: { supported: boolean; maxResults: number };
  changePassword: false;
  sort: boolean;
  etag: boolean;
  /** RFC 9865 cursor pagination; when given, a `pagination` attribute is advertised. */
  cursorPagination?: boolean;
  documentationUri?: string;
}

interface DiscoveryMeta extends JsonObject {
  resourceType: string;
  location: string;
}

/** A /Schemas resource (RFC 7643 §7). */
export interface SchemaDocument extends JsonObject {
  schemas: string[];
  id: string;
  name: string;
  description: string;
  attributes: JsonObject[];
  meta: DiscoveryMeta;
}

/** A /ResourceTypes resource (RFC 7643 §6). */
export interface ResourceTypeDocument extends JsonObject {
  schemas: string[];
  id: string;
  name: string;
  endpoint: string;
  description: string;
  schema: string;
  schemaExtensions: { schema: string; required: boolean }[];
  meta: DiscoveryMeta;
}

const trimSlash = (baseUrl: string): string => baseUrl.replace(/\/+$/, "");

/** RFC 7643 §7: every characteristic spelled out, optional ones only when set. */
function attributeDocument(a: AttributeDefinition): JsonObject {
  const doc: JsonObject = {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    caseExact: a.caseExact,
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
  };
  if (a.canonicalValues && a.canonicalValues.length > 0) doc.canonicalValues = [...a.canonicalValues];
  if (a.referenceTypes) doc.referenceTypes = [...a.referenceTypes];
  if (a.subAttributes) doc.subAttributes = a.subAttributes.map(attributeDocument);
  return doc;
}

function schemaDocument(baseUrl: string, s: SchemaDefinition): SchemaDocument {
  return {
    schemas: [SCHEMA_SCHEMA_URN],
    id: s.id,
    name: s.name,
    description: s.description,
    attributes: s.attributes.map(attributeDocument),
    meta: { resourceType: "Schema", location: `${trimSlash(baseUrl)}/Schemas/${s.id}` },
  };
}

/**
 * The /Schemas resources: User, EnterpriseUser, Group, Okta's Role and Entitlement. The common
 * attributes (id, externalId, meta) are not listed, as in the §8.7.1 representation (§3.1
 * keeps them out of schemas).
 */
export function schemaDocuments(baseUrl: string): SchemaDocument[] {
  return DESCRIBED_SCHEMAS.map((s) => schemaDocument(baseUrl, s));
}

/** /Schemas/{id}: the URN in any case; `undefined` → 404. */
export function findSchemaDocument(baseUrl: string, id: string): SchemaDocument | undefined {
  const s = DESCRIBED_SCHEMAS.find((x) => sameUrn(x.id, id));
  return s && schemaDocument(baseUrl, s);
}

function resourceTypeDocument(baseUrl: string, rt: ResourceTypeLike): ResourceTypeDocument {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA_URN],
    id: rt.id,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description,
    schema: rt.schema,
    schemaExtensions: rt.schemaExtensions.map((e) => ({ schema: e.schema, required: e.required })),
    meta: { resourceType: "ResourceType", location: `${trimSlash(baseUrl)}/ResourceTypes/${rt.id}` },
  };
}

/** The /ResourceTypes resources (RFC 7643 §6): User and Group, then the tenant's catalog types. */
export function resourceTypeDocuments(baseUrl: string, extra: readonly ResourceTypeLike[] = []): ResourceTypeDocument[] {
  return [...RESOURCE_TYPES, ...extra].map((rt) => resourceTypeDocument(baseUrl, rt));
}

/** /ResourceTypes/{id}: `User` / `Group` (or a catalog type in `extra`) in any case; `undefined` → 404. */
export function findResourceTypeDocument(baseUrl: string, id: string, extra: readonly ResourceTypeLike[] = []): ResourceTypeDocument | undefined {
  const rt = [...RESOURCE_TYPES, ...extra].find((x) => x.id.toLowerCase() === id.toLowerCase());
  return rt && resourceTypeDocument(baseUrl, rt);
}

/** The /ServiceProviderConfig document (RFC 7643 §5) for the features the deployment enables. */
export function serviceProviderConfig(baseUrl: string, features: ServiceProviderFeatures): JsonObject {
  const doc: JsonObject = { schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA_URN] };
  if (features.documentationUri !== undefined) doc.documentationUri = features.documentationUri;
  Object.assign(doc, {
    patch: { supported: features.patch },
    bulk: { ...features.bulk },
    filter: { supported: features.filter.supported, maxResults: features.filter.maxResults },
    changePassword: { supported: features.changePassword },
    sort: { supported: features.sort },
    etag: { supported: features.etag },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "OAuth Bearer Token",
        description: "Authentication using a bearer token issued for the tenant (RFC 6750).",
        specUri: "https://www.rfc-editor.org/info/rfc6750",
        primary: true,
      },
    ],
  });
  if (features.cursorPagination !== undefined) {
    // RFC 9865 §4: index-based paging (RFC 7644 §3.4.2.4) stays available and is the default.
    doc.pagination = { cursor: features.cursorPagination, index: true, defaultPaginationMethod: "index" };
  }
  doc.meta = { resourceType: "ServiceProviderConfig", location: `${trimSlash(baseUrl)}/ServiceProviderConfig` };
  return doc;
}
