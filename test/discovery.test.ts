/** Discovery endpoints over HTTP (RFC 7644 §4), as an IdP reads them before provisioning. */
import { describe, expect, it } from "vitest";
import { expectScimError } from "./support/expect-scim-error";
import { bodyOf, call, createTenant, scim } from "./support/http";
import type { ListJson } from "./support/scim-json";

/** A /ResourceTypes or /Schemas entry, as far as these tests read it. */
interface DiscoveryJson {
  id: string;
  meta: { location: string; resourceType: string };
}

describe("discovery", () => {
  it("advertises what is implemented in /ServiceProviderConfig", async () => {
    const tenant = await createTenant();
    const res = await scim(tenant, "/ServiceProviderConfig");
    const body = await bodyOf(res);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/scim\+json/);
    expect(body).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 100, maxPayloadSize: 1048576 },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [expect.objectContaining({ type: "oauthbearertoken" })],
      meta: { location: `${tenant.baseUrl}/ServiceProviderConfig` },
    });
  });

  it("lists the User and Group resource types, each readable by id in any case", async () => {
    const tenant = await createTenant();
    const list = await bodyOf<ListJson<DiscoveryJson>>(await scim(tenant, "/ResourceTypes"));
    expect(list.Resources.map((r) => r.id).sort()).toEqual(["Group", "User"]);
    const user = await bodyOf<{ endpoint: string; schemaExtensions: { schema: string }[] }>(await scim(tenant, "/ResourceTypes/user"));
    expect(user).toMatchObject({ endpoint: "/Users", schemaExtensions: [{ schema: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" }] });
  });

  it("serves each schema with its attributes and meta.location", async () => {
    const tenant = await createTenant();
    const list = await bodyOf<ListJson<DiscoveryJson>>(await scim(tenant, "/Schemas"));
    expect(list.Resources.map((r) => r.id)).toEqual(
      expect.arrayContaining([
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
      ]),
    );
    const urn = "urn:ietf:params:scim:schemas:core:2.0:User";
    const res = await scim(tenant, `/Schemas/${urn}`);
    const schema = await bodyOf<{ id: string; attributes: { name: string; mutability: string; returned: string }[]; meta: { location: string } }>(res);
    expect(schema.meta.location).toBe(`${tenant.baseUrl}/Schemas/${urn}`);
    expect(schema.attributes.find((a) => a.name === "password")).toMatchObject({ mutability: "writeOnly", returned: "never" });
    expect(schema.attributes.find((a) => a.name === "groups")).toMatchObject({ mutability: "readOnly" });
  });

  it.each(["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"])("answers 403 to a filter on %s", async (path) => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, `${path}?filter=${encodeURIComponent('id eq "User"')}`), 403);
  });

  it("answers 404 to an unknown schema or resource type", async () => {
    const tenant = await createTenant();
    await expectScimError(await scim(tenant, "/Schemas/urn:nope"), 404);
    await expectScimError(await scim(tenant, "/ResourceTypes/Printer"), 404);
  });

  it("answers without any user in the tenant, and GET /Users and /Groups are valid empty lists", async () => {
    const tenant = await createTenant();
    for (const path of ["/Users", "/Groups"]) {
      const body = await bodyOf(await call(`${tenant.baseUrl}${path}`, { headers: { Authorization: `Bearer ${tenant.token}` } }));
      expect(body, path).toEqual({ schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
    }
  });

  it.each(["/ServiceProviderConfig", "/Schemas", "/ResourceTypes/User"])("answers 405 with Allow: GET to a DELETE of %s", async (path) => {
    const tenant = await createTenant();
    const res = await scim(tenant, path, { method: "DELETE" });
    await expectScimError(res, 405);
    expect(res.headers.get("Allow")).toBe("GET");
  });
});
