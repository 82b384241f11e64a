// `npm run dev`: local D1 migrated, an ADMIN_TOKEN in .dev.vars, then `wrangler dev` on 127.0.0.1:8787.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const PORT = process.env.PORT ?? "8787";

if (!existsSync(".dev.vars")) {
  writeFileSync(".dev.vars", `ADMIN_TOKEN=${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  console.log("Created .dev.vars with a random ADMIN_TOKEN.");
}
const adminToken = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();

const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

console.log(`
Create a first tenant (the response holds its SCIM base URL, token and setup link):
  curl -s -X POST http://127.0.0.1:${PORT}/admin/tenants \\
    -H "Authorization: Bearer ${adminToken ?? "<ADMIN_TOKEN from .dev.vars>"}" \\
    -H "Content-Type: application/json" \\
    -d '{"name":"Acme","provider":"okta"}'
`);

const dev = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", PORT, ...process.argv.slice(2)], { stdio: "inherit" });
dev.on("exit", (code) => process.exit(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
