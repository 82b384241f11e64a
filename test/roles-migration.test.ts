/**
 * Migration 0012 on a database with data: users written before it get their `role_values`
 * (roles[].value, then userType) from their documents, so set-based role events and strict
 * validation see them. The backfill statement is run again here over rows that look like the
 * old Worker's (role_values still the column default), exactly as the migration runs it.
 */
import { describe, expect, it } from "vitest";
import migration from "../migrations/0012_roles.sql?raw";
import { admin, bodyOf, createTenant, scim } from "./support/http";
import { USER } from "./support/urns";
import { shardOf } from "./support/shards";

const backfill = migration.split("--> statement-breakpoint").find((s) => s.includes("UPDATE `users` SET `role_values`"));

describe("migration 0012", () => {
  it("backfills role_values from existing users' roles and userType", async () => {
    expect(backfill).toBeDefined();
    const tenant = await createTenant();
    await admin(`/tenants/${tenant.id}/roles/editor`, { method: "PUT", json: { displayName: "Editor" } });
    const res = await scim(tenant, "/Users", {
      method: "POST",
      json: { schemas: [USER], userName: "old@example.com", roles: [{ value: "editor" }, { value: "x" }], userType: "Editor" },
    });
    const { id } = await bodyOf<{ id: string }>(res);
    const plain = await bodyOf<{ id: string }>(await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], userName: "plain@example.com" } }));
    const db = await shardOf(tenant.id);
    // As the previous Worker left them: no role_values.
    await db.prepare("UPDATE users SET role_values = '[]' WHERE tenant_id = ?").bind(tenant.id).run();
    await db.prepare(backfill ?? "").run();
    const rows = await db.prepare("SELECT id, role_values FROM users WHERE tenant_id = ? ORDER BY seq").bind(tenant.id).all<{ id: string; role_values: string }>();
    expect(rows.results).toEqual([
      { id, role_values: JSON.stringify(["editor", "x", "Editor"]) },
      { id: plain.id, role_values: "[]" },
    ]);
  });
});
