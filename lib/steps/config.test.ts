import { describe, expect, it } from "vitest";
import { publicIpv4Schema } from "./config";

describe("publicIpv4Schema", () => {
  it.each(["203.0.113.7", "198.51.100.20", "8.8.8.8"])("accepts %s", (ip) => {
    expect(publicIpv4Schema.safeParse(ip).success).toBe(true);
  });

  it.each([
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "127.0.0.1",
    "169.254.1.1",
    "100.64.0.1",
    "256.1.1.1",
    "1.2.3",
    "1.2.3.4/32",
    "01.2.3.4x",
    "::1",
    "",
  ])("refuses %s", (ip) => {
    expect(publicIpv4Schema.safeParse(ip).success).toBe(false);
  });
});
