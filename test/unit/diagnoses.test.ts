/**
 * The console's table of diagnoses covers every SCIM error the server can emit. The errors are
 * read from the source itself: every `scimErrors.<kind>(` call (its status and scimType come
 * from src/scim/errors.ts) and every `new ScimError(<status>, …, "<scimType>")`. A new error
 * added anywhere without a diagnosis fails here.
 */
import { describe, expect, it } from "vitest";
import { DIAGNOSES, diagnose, fixFor, UNKNOWN_DIAGNOSIS } from "../../src/console/diagnoses";
import { scimErrors } from "../../src/scim/errors";

const SOURCES = import.meta.glob<string>(["../../src/**/*.ts", "../../src/**/*.tsx"], { query: "?raw", import: "default", eager: true });

interface Emitted {
  status: number;
  scimType: string | null;
  where: string;
}

function emittedErrors(): Emitted[] {
  const found: Emitted[] = [];
  for (const [file, text] of Object.entries(SOURCES)) {
    if (file.endsWith("/scim/errors.ts") || file.includes("/console/")) continue;
    for (const match of text.matchAll(/scimErrors\.(\w+)\(/g)) {
      const kind = match[1] as keyof typeof scimErrors;
      const make = scimErrors[kind] as ((detail: string) => { status: number; scimType: string | undefined }) | undefined;
      if (!make) throw new Error(`${file}: scimErrors.${String(kind)} is not in src/scim/errors.ts`);
      const error = make("x");
      found.push({ status: error.status, scimType: error.scimType ?? null, where: `${file}: scimErrors.${String(kind)}` });
    }
    for (const match of text.matchAll(/new ScimError\(\s*(\d{3})\s*,/g)) {
      // The third argument, when it is a string literal, is the scimType.
      const args = argumentsOf(text, (match.index ?? 0) + "new ScimError(".length);
      const scimType = /^\s*"(\w+)"\s*$/.exec(args[2] ?? "")?.[1] ?? null;
      found.push({ status: Number(match[1]), scimType, where: `${file}: new ScimError(${match[1]})` });
    }
  }
  return found;
}

/** The top-level arguments of a call whose "(" ends just before `start`: commas inside (), [], {}, strings and templates do not split. */
function argumentsOf(text: string, start: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = "";
  for (let i = start; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (quote) {
      current += ch;
      if (ch === "\\") current += text[++i] ?? "";
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) {
      if (depth === 0) break;
      depth--;
    } else if (ch === "," && depth === 0) {
      args.push(current);
      current = "";
      continue;
    }
    current += ch;
  }
  args.push(current);
  return args;
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const PATHS = ["/scim/v2/t/Users", "/scim/v2/t/Users/1", "/scim/v2/t/Groups/1", "/scim/v2/t/ServiceProviderConfig", "/scim/v2/t/Bulk"];

describe("the console's diagnoses", () => {
  it("finds the errors the server emits in its source (the scan itself works)", () => {
    const emitted = emittedErrors();
    expect(emitted.length).toBeGreaterThan(100);
    const pairs = new Set(emitted.map((e) => `${e.status} ${e.scimType}`));
    for (const pair of ["409 uniqueness", "400 invalidValue", "401 null", "429 null", "503 null", "405 null", "409 null"]) expect(pairs).toContain(pair);
  });

  it("explain every emitted error for every method and resource (none falls through to the generic text)", () => {
    const missing: string[] = [];
    for (const error of emittedErrors()) {
      for (const method of METHODS) {
        for (const path of PATHS) {
          const found = diagnose({ ...error, method, path, detail: "" });
          if (found === UNKNOWN_DIAGNOSIS) missing.push(`${error.status} ${error.scimType} ${method} ${path} (${error.where})`);
        }
      }
    }
    expect([...new Set(missing)]).toEqual([]);
  });

  it("say what the issue's examples say", () => {
    const linkingOff = diagnose({
      status: 409,
      scimType: "uniqueness",
      method: "POST",
      path: "/scim/v2/t/Users",
      detail: "An account with this userName or primary email already exists in the application, and this tenant does not link existing accounts.",
    });
    expect(linkingOff.id).toBe("user-account-exists-linking-off");
    expect(linkingOff.fix.default).toMatch(/linking/i);
    const unknownMember = diagnose({
      status: 400,
      scimType: "invalidValue",
      method: "PATCH",
      path: "/scim/v2/t/Groups/g1",
      detail: "Member 'u1' is not a user of this tenant; nothing was applied.",
    });
    expect(unknownMember.id).toBe("unknown-member");
    expect(fixFor(unknownMember, "okta")).toMatch(/Assign the user to the app in Okta first/);
    expect(fixFor(unknownMember, "entra")).toMatch(/Entra/);
    expect(diagnose({ status: 401, scimType: null, method: "GET", path: "/scim/v2/t/Users", detail: null }).summary).toMatch(/token/);
  });

  it("have unique ids and a catch-all (no method, resource or detail condition) for each status and scimType", () => {
    expect(new Set(DIAGNOSES.map((d) => d.id)).size).toBe(DIAGNOSES.length);
    const keys = new Set(DIAGNOSES.map((d) => `${d.status} ${d.scimType}`));
    for (const key of keys) {
      const catchAll = DIAGNOSES.filter((d) => `${d.status} ${d.scimType}` === key && !d.methods && !d.resources && !d.detail);
      expect(catchAll.length, key).toBe(1);
    }
  });
});
