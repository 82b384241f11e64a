/** The schema-driven resource model (RFC 7643): definitions, lookup, validation, projection, discovery. */
export type {
  AttributeDefinition,
  AttributeType,
  JsonObject,
  JsonPrimitive,
  JsonValue,
  Mutability,
  ResourceTypeDefinition,
  ResourceTypeName,
  Returned,
  SchemaDefinition,
  ScimDocument,
  Uniqueness,
} from "./types";
export { COMMON_ATTRIBUTES } from "./common";
export { USER_SCHEMA, USER_SCHEMA_URN } from "./user";
export { ENTERPRISE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA_URN } from "./enterprise-user";
export { GROUP_SCHEMA, GROUP_SCHEMA_URN } from "./group";
export {
  ENTRA_GROUP_SCHEMA_URN,
  GROUP_RESOURCE_TYPE,
  RESOURCE_TYPES,
  RESOURCE_TYPE_SCHEMA_URN,
  SCHEMAS,
  SCHEMA_SCHEMA_URN,
  SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
  USER_RESOURCE_TYPE,
  resourceSchemas,
  sameUrn,
  schemaForUrn,
  type ResourceSchemas,
} from "./resource-types";
export {
  canonicalName,
  findAttribute,
  resolveAttribute,
  splitUrnPath,
  subAttributeOf,
  type AttributeMatch,
  type AttributePath,
} from "./lookup";
export {
  coerceBoolean,
  isPlainObject,
  MAX_VALUES_PER_ATTRIBUTE,
  parseAttributeValue,
  parseResource,
  requireWithinValueCap,
  uniquenessKey,
} from "./validate";
export { parseAttributeList, projectResource, type ProjectionOptions } from "./project";
export {
  findResourceTypeDocument,
  findSchemaDocument,
  resourceTypeDocuments,
  schemaDocuments,
  serviceProviderConfig,
  type ResourceTypeDocument,
  type SchemaDocument,
  type ServiceProviderFeatures,
} from "./discovery";
