import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { safeReturnTo } from "./sign-in";

beforeAll(() => {
  // safeReturnTo resolves against the portal's origin; env() parses once, on first use.
  vi.stubEnv("PORTAL_URL", "https://portal.example");
  vi.stubEnv("ENCRYPTION_KEY", randomBytes(32).toString("base64"));
  vi.stubEnv("ENTRA_CLIENT_ID", "5f0e4c52-7b4a-4f0e-9a53-3c2b1f1e0a11");
  vi.stubEnv("ENTRA_CLIENT_SECRET", "s");
});

/** Where a browser on the portal would go for a Location of `path`. */
const resolved = (path: string) => new URL(path, "https://portal.example/current/page").origin;

describe("safeReturnTo", () => {
  it("keeps same-origin paths", () => {
    expect(safeReturnTo("/onboarding/abc?x=1")).toBe("/onboarding/abc?x=1");
  });

  it.each([null, undefined, "", "https://evil.example/", "//evil.example", "/\\evil.example", "estate"])(
    "refuses %s as an open redirect",
    (value) => {
      expect(safeReturnTo(value)).toBe("/estate");
    },
  );

  it("refuses tabs, newlines, carriage returns and other control characters or whitespace, which browsers drop or trim", () => {
    for (const value of [
      "/\t/evil.example",
      "/\n/evil.example",
      "/\r/evil.example",
      "/\r\n/evil.example",
      "/\u0000/evil.example",
      "/\u007f/evil",
      "/ /evil.example",
      "/\u00a0/evil",
      "/\u2028/evil",
      "/estate\t",
    ]) {
      expect(safeReturnTo(value), JSON.stringify(value)).toBe("/estate");
    }
  });

  it("refuses a backslash anywhere, which browsers read as a slash", () => {
    for (const value of ["/\\evil.example", "/\\\\evil.example", "/x/\\evil", "/onboarding\\..\\..\\evil"]) {
      expect(safeReturnTo(value), value).toBe("/estate");
    }
  });

  it("refuses percent-encoded slashes, backslashes and tabs that one decoding hop would turn into a way out", () => {
    for (const value of [
      "/%2F%2Fevil.example",
      "/%2f/evil.example",
      "/%5Cevil.example",
      "/%5c%5cevil",
      "/%09/evil.example",
      "/%0a/evil",
      "/%0D/evil",
      "/%E0%A4%A",
    ]) {
      expect(safeReturnTo(value), value).toBe("/estate");
    }
  });

  it("refuses absolute URLs, other schemes and mixed variants", () => {
    for (const value of [
      "https://evil.example/",
      "HTTPS://evil.example",
      "https://portal.example.evil.example/",
      "javascript:alert(1)",
      "data:text/html,x",
      "/%09%5C/evil",
      "/\t%2F/evil",
      "\t//evil.example",
      " /estate",
      "/\\\t/evil",
      "/%2F\\evil",
    ]) {
      expect(safeReturnTo(value), JSON.stringify(value)).toBe("/estate");
    }
  });

  it("returns the parsed URL's own path, query and fragment, so dot segments can't climb anywhere", () => {
    expect(safeReturnTo("/%2e%2e")).toBe("/");
    expect(safeReturnTo("/%2e%2e/%2e%2e/estate")).toBe("/estate");
    expect(safeReturnTo("/onboarding/../vendor?x=1#top")).toBe("/vendor?x=1#top");
    expect(safeReturnTo("/a?next=//evil.example")).toBe("/a?next=//evil.example");
  });

  it("refuses a value longer than 2,048 characters", () => {
    expect(safeReturnTo(`/${"a".repeat(2047)}`)).toBe(`/${"a".repeat(2047)}`);
    expect(safeReturnTo(`/${"a".repeat(2048)}`)).toBe("/estate");
  });

  it("never yields a Location that resolves off the portal's origin (fuzzed)", () => {
    const pieces = [
      "/",
      "//",
      "\\",
      "\t",
      "\n",
      "\r",
      " ",
      "%2F",
      "%5C",
      "%09",
      "%2e",
      ".",
      "evil.example",
      ":",
      "@",
      "?",
      "#",
      "javascript:",
      "https:",
    ];
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let i = 0; i < 5000; i++) {
      const value = Array.from({ length: 1 + (next() % 6) }, () => pieces[next() % pieces.length] ?? "").join("");
      const safe = safeReturnTo(value);
      expect(resolved(safe), JSON.stringify(value)).toBe("https://portal.example");
      expect(safe, JSON.stringify(value)).toMatch(/^\/(?![/\\])[^\s\\]*$/);
    }
  });
});
