import { describe, expect, it } from "vitest";
import { clientNetwork } from "../../src/tenancy/token-lookup";

describe("clientNetwork: the failed-authentication budget's client key", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:198.51.100.4", "198.51.100.4"],
    ["", ""],
    ["not-an-address", "not-an-address"],
    ["1::2::3", "1::2::3"],
  ])("%s → %s", (ip, expected) => {
    expect(clientNetwork(ip)).toBe(expected);
  });
});
