/**
 * Case-insensitive filters whatever the script (issue 9, item 8b; RFC 7643 §2.2: `caseExact:
 * false` attributes compare case-insensitively). SQLite's lower() folds ASCII only; the filter
 * compiler folds the other characters the value needs (src/storage/case-fold.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bodyOf, createTenant, scim, type TestTenant } from "./support/http";
import type { ListJson } from "./support/scim-json";
import { USER } from "./support/urns";

let tenant: TestTenant;
const ids = new Map<string, string>();

async function newUser(key: string, body: Record<string, unknown>): Promise<void> {
  const res = await scim(tenant, "/Users", { method: "POST", json: { schemas: [USER], ...body } });
  const created = await bodyOf<{ id: string }>(res);
  expect(res.status, JSON.stringify(created)).toBe(201);
  ids.set(key, created.id);
}

beforeAll(async () => {
  tenant = await createTenant();
  await newUser("müller", { userName: "mueller@x.de", name: { familyName: "MÜLLER", givenName: "Jörg" }, emails: [{ value: "JÖRG@X.DE", type: "work" }] });
  await newUser("odysseus", { userName: "ΣΩΣΤΗΣ@x.gr", name: { familyName: "ΟΔΥΣΣΕΥΣ", givenName: "Ἀλέξανδρος" } });
  await newUser("dmitri", { userName: "dmitri@x.ru", name: { familyName: "ИВАНОВ", givenName: "Дмитрий" }, emails: [{ value: "Дмитрий@Пример.РФ", type: "home" }] });
  // Same ASCII letters, other non-ASCII ones: must never be found by the filters above.
  await newUser("decoy", { userName: "decoy@x.de", name: { familyName: "MALLER", givenName: "Jarg" }, emails: [{ value: "JARG@X.DE", type: "work" }] });
});

async function found(filter: string): Promise<string[]> {
  const res = await scim(tenant, `/Users?filter=${encodeURIComponent(filter)}&attributes=id`);
  const body = await bodyOf<ListJson<{ id: string }>>(res);
  expect(res.status, `${filter}: ${JSON.stringify(body)}`).toBe(200);
  expect(body.totalResults, `${filter}: totalResults agrees with the page`).toBe(body.Resources.length);
  const byId = new Map([...ids].map(([key, id]) => [id, key]));
  return body.Resources.map((r) => byId.get(r.id) ?? r.id).sort();
}

describe("case-insensitive filters on non-ASCII values", () => {
  it.each([
    ['name.familyName eq "MÜLLER"', "müller"],
    ['name.familyName eq "müller"', "müller"],
    ['name.familyName co "ÜLL"', "müller"],
    ['name.familyName sw "mü"', "müller"],
    ['name.familyName ew "üLLER"', "müller"],
    ['emails.value eq "JÖRG@X.DE"', "müller"],
    ['emails.value eq "jörg@x.de"', "müller"],
    ['emails[type eq "work" and value eq "jÖrg@x.de"]', "müller"],
    ['emails[type eq "work"].value eq "Jörg@X.de"', "müller"],
    ['emails.value co "ÖRG@"', "müller"],
    ['name.familyName eq "Οδυσσευς"', "odysseus"],
    ['name.familyName eq "οδυσσευσ"', "odysseus"],
    ['name.familyName sw "οδυσ"', "odysseus"],
    ['name.familyName co "ΣΣΕΥ"', "odysseus"],
    ['name.givenName sw "ἀλέξ"', "odysseus"],
    ['userName sw "ΣΩΣ"', "odysseus"],
    ['userName co "σωστησ@"', "odysseus"],
    ['name.givenName eq "ДМИТРИЙ"', "dmitri"],
    ['name.givenName co "ДМИ"', "dmitri"],
    ['name.familyName ew "анов"', "dmitri"],
    ['emails.value eq "дмитрий@пример.рф"', "dmitri"],
  ])("%s finds exactly the user who holds it", async (filter, who) => {
    expect(await found(filter)).toEqual([who]);
  });

  it("still tells different non-ASCII letters apart, and ne/not see the fold too", async () => {
    expect(await found('name.familyName eq "MÄLLER"')).toEqual([]);
    expect(await found('name.familyName ne "müller" and emails.value co "x.de"')).toEqual(["decoy"]);
    expect(await found('not (name.givenName co "ÖR") and userName ew "x.de"')).toEqual(["decoy"]);
  });
});
