import { describe, expect, it } from "vitest";
import { hasDefaultIgnorable, hasLoneSurrogate, hasAsciiLookAlike } from "../../src/scim/identifiers";
import { linkingKey } from "../../src/storage/linking";

describe("the default-ignorable set", () => {
  it("is exactly Unicode's Default_Ignorable_Code_Point, over every code point", () => {
    const property = /\p{Default_Ignorable_Code_Point}/u;
    const differences: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (hasDefaultIgnorable(ch) !== property.test(ch)) differences.push(cp.toString(16));
    }
    expect(differences).toEqual([]);
  });
});

describe("lone surrogates", () => {
  it.each([
    ["\ud800", true],
    ["a\udc00", true],
    ["\udbff\udbff\udfff", true],
    ["\ud83d\ude00", false],
    ["plain", false],
  ])("%j has a lone surrogate: %s", (value, expected) => {
    expect(hasLoneSurrogate(value)).toBe(expected);
  });
});

describe("linkingKey", () => {
  it.each([
    ["Pat@Example.COM", "pat@example.com"],
    ["Jose\u0301", "Jos\u00e9"],
    ["Jos\u00e9", "Jos\u00e9"],
    ["JOS\u00c9", "JOS\u00c9"],
    ["\uff2bate", "\uff2bate"],
    ["\u0130lgaz", "\u0130lgaz"],
    ["k\u0131k\u0131", "k\u0131k\u0131"],
    ["\u212Aate", null],
    ["a\u037eb", null],
    ["\u2126mega", "\u03a9mega"],
    ["\u095boya", "\u091c\u093coya"],
  ])("%j → %j", (value, key) => {
    expect(linkingKey(value)).toBe(key);
    expect(hasAsciiLookAlike(value)).toBe(key === null);
  });
});
