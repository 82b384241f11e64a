/** The resource types this service offers (RFC 7643 §6) and the schemas each one accepts. */
import { ENTERPRISE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA_URN } from "./enterprise-user";
import { GROUP_SCHEMA, GROUP_SCHEMA_URN } from "./group";
import type { ResourceTypeDefinition, ResourceTypeName, SchemaDefinition } from "./types";
import { USER_SCHEMA, USER_SCHEMA_URN } from "./user";

export const RESOURCE_TYPE_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
export const SCHEMA_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema";
export const SERVICE_PROVIDER_CONFIG_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/** Entra ID adds this to every group body; it defines nothing we store. */
export const ENTRA_GROUP_SCHEMA_URN = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

export const USER_RESOURCE_TYPE: ResourceTypeDefinition = {
  id: "User",
  name: "User",
  endpoint: "/Users",
  description: "User Account",
  schema: USER_SCHEMA_URN,
  schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA_URN, required: false }],
};

export const GROUP_RESOURCE_TYPE: ResourceTypeDefinition = {
  id: "Group",
  name: "Group",
  endpoint: "/Groups",
  description: "Group",
  schema: GROUP_SCHEMA_URN,
  schemaExtensions: [],
};

export const RESOURCE_TYPES: readonly ResourceTypeDefinition[] = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE];

/** Every schema served at /Schemas, in a stable order. */
export const SCHEMAS: readonly SchemaDefinition[] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA];

/** URNs accepted in a body's `schemas` that are neither the core schema nor an extension: ignored. */
const TOLERATED_SCHEMA_URNS: Record<ResourceTypeName, readonly string[]> = {
  User: [],
  Group: [ENTRA_GROUP_SCHEMA_URN],
};

export interface ResourceSchemas {
  readonly resourceType: ResourceTypeDefinition;
  readonly core: SchemaDefinition;
  readonly extensions: readonly SchemaDefinition[];
  readonly tolerated: readonly string[];
}

function schemaById(id: string): SchemaDefinition {
  const found = SCHEMAS.find((s) => s.id === id);
  if (!found) throw new Error(`schema ${id} is not defined`); // a programming error, caught by tests
  return found;
}

function build(rt: ResourceTypeDefinition): ResourceSchemas {
  return {
    resourceType: rt,
    core: schemaById(rt.schema),
    extensions: rt.schemaExtensions.map((e) => schemaById(e.schema)),
    tolerated: TOLERATED_SCHEMA_URNS[rt.name],
  };
}

const BY_NAME: Record<ResourceTypeName, ResourceSchemas> = {
  User: build(USER_RESOURCE_TYPE),
  Group: build(GROUP_RESOURCE_TYPE),
};

/** The core schema, extensions and tolerated extra URNs of a resource type. */
export function resourceSchemas(name: ResourceTypeName): ResourceSchemas {
  return BY_NAME[name];
}

/**
 * URNs are compared case-insensitively. RFC 8141 only requires that for the `urn:` prefix and
 * the NID, but no two schemas differ by case, and attribute names are case-insensitive anyway
 * (RFC 7643 §2.1), so being liberal costs nothing.
 */
export function sameUrn(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The schema (core or extension) of `name` whose URN is `urn`, in any case. */
export function schemaForUrn(name: ResourceTypeName, urn: string): SchemaDefinition | undefined {
  const { core, extensions } = BY_NAME[name];
  if (sameUrn(core.id, urn)) return core;
  return extensions.find((s) => sameUrn(s.id, urn));
}
