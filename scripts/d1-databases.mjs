// The D1 bindings wrangler.toml declares ([[d1_databases]] binding = "…"): the directory DB and
// every shard (src/storage/shards.ts). Each runs the same migrations, so dev and deploy apply
// them to all of them.
import { readFileSync } from "node:fs";

export function d1Bindings(path = "wrangler.toml") {
  const toml = readFileSync(path, "utf8");
  const names = [];
  for (const block of toml.split(/^\[\[/m).filter((b) => b.startsWith("d1_databases]]"))) {
    const name = /^binding\s*=\s*"([^"]+)"/m.exec(block)?.[1];
    if (name) names.push(name);
  }
  return names;
}
