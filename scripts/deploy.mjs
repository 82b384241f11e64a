// npm run deploy: migrations on the directory and every shard (remote), wrangler deploy, then the
// paging-block recount on every database that holds tenants' data (scripts/recount-seq-blocks.sql).
import { spawnSync } from "node:child_process";
import { d1Bindings } from "./d1-databases.mjs";

function wrangler(...args) {
  const run = spawnSync("wrangler", args, { stdio: "inherit", shell: process.platform === "win32" });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

const databases = d1Bindings();
for (const binding of databases) wrangler("d1", "migrations", "apply", binding, "--remote");
wrangler("deploy");
for (const binding of databases) wrangler("d1", "execute", binding, "--remote", "--yes", "--file", "scripts/recount-seq-blocks.sql");
