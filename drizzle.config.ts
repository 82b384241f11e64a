import { defineConfig } from "drizzle-kit";

// Generates SQL migrations into migrations/, which wrangler applies (`wrangler d1 migrations apply`).
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/storage/schema.ts",
  out: "./migrations",
  migrations: { prefix: "index" },
});
