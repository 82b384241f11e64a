/** The command line of `npm run bench` (bench/run.mjs): its help text and its flags, checked. */
import { parseArgs } from "node:util";

export const HELP = `Usage: npm run bench -- [flags]

  --quick              small tenant, ~2 s per scenario, whole run < 2 minutes (CI)
  --users N            users in the tenant (default 100000; --quick 1000)
  --spare P            extra users in no group, for the add-member scenarios (default 20000; --quick 10000)
  --duration S         measured seconds per scenario (default 15; --quick 2)
  --warmup S           warm-up seconds per scenario, not measured (default 3; --quick 0.5)
  --connections C      keep-alive connections, closed loop (default 16)
  --max-requests M     request cap per scenario, warm-up included (default 1000000)
  --scenarios a,b*     run only these (names, names without @group, or prefixes ending in *);
                       the ceiling (spc, first, and spc-end, last) always runs
  --seed MODE          sqlite (default, local) | wrangler (d1 execute --file) | scim (API calls; default with BASE_URL)
  --max-minutes M      stop starting new scenarios after M minutes (default 20; --quick 5)
  --rate-limit MODE    raised (default: the tenant rate-limit bindings get a limit no run reaches,
                       so no 429) | configured (wrangler.toml's limits; expect 429s)
  --keep-data          keep the local persistence directory (D1, KV) after the run, for inspection
  --skip-reference     do not measure the bare-runtime reference (bench/reference/), first and last
  --strict             exit 1 when a scenario has errors or a wrong answer (unavailable is fine)
  --list               print the scenario names and exit
  --help

Environment: BASE_URL (http://127.0.0.1:<port>) + ADMIN_TOKEN to use a running server instead of
starting one; SERVER_PID to report that server's RSS. Only 127.0.0.1 is ever contacted.`;

export function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      users: { type: "string" },
      spare: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      "max-requests": { type: "string" },
      scenarios: { type: "string" },
      seed: { type: "string" },
      "max-minutes": { type: "string" },
      list: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      "keep-data": { type: "boolean", default: false },
      "skip-reference": { type: "boolean", default: false },
      "rate-limit": { type: "string", default: "raised" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  const number = (name, fallback, { min = 0, max = Number.MAX_SAFE_INTEGER, integer = true } = {}) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new Error(`--${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], got ${values[name]}`);
    }
    return n;
  };
  const quick = values.quick;
  const external = Boolean(process.env.BASE_URL);
  const seed = values.seed ?? (external ? "scim" : "sqlite");
  if (!["sqlite", "wrangler", "scim"].includes(seed)) throw new Error(`--seed must be sqlite, wrangler or scim`);
  if (!["raised", "configured"].includes(values["rate-limit"])) throw new Error("--rate-limit must be raised or configured");
  if (external && seed !== "scim") throw new Error("with BASE_URL only --seed scim is possible (the D1 file is not ours)");
  return {
    help: values.help,
    list: values.list,
    strict: values.strict,
    keepData: values["keep-data"],
    skipReference: values["skip-reference"],
    rateLimit: values["rate-limit"],
    quick,
    users: number("users", quick ? 1000 : 100_000, { min: 100, max: 1_000_000 }),
    spare: number("spare", quick ? 10_000 : 20_000, { min: 400, max: 1_000_000 }),
    duration: number("duration", quick ? 2 : 15, { min: 0.2, max: 600, integer: false }),
    warmup: number("warmup", quick ? 0.5 : 3, { min: 0, max: 120, integer: false }),
    connections: number("connections", 16, { min: 1, max: 256 }),
    maxRequests: number("max-requests", 1_000_000, { min: 1, max: 10_000_000 }),
    maxMinutes: number("max-minutes", quick ? 5 : 20, { min: 1, max: 240, integer: false }),
    scenarios: values.scenarios ? values.scenarios.split(",").map((s) => s.trim()).filter(Boolean) : [],
    seed,
    external,
  };
}
