// `npm run dev`: local D1 migrated, an ADMIN_TOKEN in .dev.vars, then `wrangler dev` on 127.0.0.1.
// The port is 8787 unless `--port N` (or `--port=N`) is passed or PORT is set; every other
// argument goes to `wrangler dev` as it is.
import { d1Bindings } from "./d1-databases.mjs";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Run wrangler with this very Node (the project's own Node 22 from node_modules/.bin), not npx:
// npx would go through whatever npm the machine has.
const WRANGLER_CLI = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));

/** `--port N` / `--port=N` taken out of the arguments; the rest is handed to wrangler. */
function splitPortArgument(args) {
  let port;
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--port" || arg === "-p") {
      port = args[++i];
    } else if (arg.startsWith("--port=")) {
      port = arg.slice("--port=".length);
    } else {
      rest.push(arg);
    }
  }
  return { port, rest };
}

const { port: portArgument, rest: wranglerArgs } = splitPortArgument(process.argv.slice(2));
const PORT = portArgument ?? process.env.PORT ?? "8787";
if (!/^\d{1,5}$/.test(PORT) || Number(PORT) < 1 || Number(PORT) > 65535) {
  console.error(`Not a port: ${JSON.stringify(PORT)}. Use --port N or PORT=N with N from 1 to 65535.`);
  process.exit(2);
}

if (!existsSync(".dev.vars")) {
  writeFileSync(".dev.vars", `ADMIN_TOKEN=${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  console.log("Created .dev.vars with a random ADMIN_TOKEN.");
}
const adminToken = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();

// wrangler prints the whole migrations table again after each migration; keep its output for
// a failure and print one line otherwise. Every D1 database (the directory DB and each shard,
// wrangler.toml) runs the same migrations.
for (const binding of d1Bindings()) {
  const migrate = spawnSync(process.execPath, [WRANGLER_CLI, "d1", "migrations", "apply", binding, "--local"], {
    encoding: "utf8",
    env: { ...process.env, CI: "true", NO_COLOR: "1", WRANGLER_SEND_METRICS: "false" },
  });
  if (migrate.status !== 0) {
    process.stdout.write(migrate.stdout ?? "");
    process.stderr.write(migrate.stderr ?? "");
    console.error(`Migrating the local D1 ${binding} failed (output above).`);
    process.exit(migrate.status ?? 1);
  }
  const applied = /About to apply (\d+) migration/.exec(migrate.stdout)?.[1];
  console.log(applied ? `Local D1 ${binding}: applied ${applied} migration(s) from migrations/.` : `Local D1 ${binding}: migrations up to date.`);
}
console.log(`
Create a first tenant (the response holds its SCIM base URL and token):
  curl -s -X POST http://127.0.0.1:${PORT}/admin/tenants \\
    -H "Authorization: Bearer ${adminToken ?? "<ADMIN_TOKEN from .dev.vars>"}" \\
    -H "Content-Type: application/json" \\
    -d '{"name":"Acme","provider":"okta"}'
`);

const dev = spawn(process.execPath, [WRANGLER_CLI, "dev", "--ip", "127.0.0.1", "--port", PORT, ...wranglerArgs], {
  stdio: "inherit",
});
dev.on("exit", (code) => process.exit(code ?? 0));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
