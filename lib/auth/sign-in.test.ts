import { describe, expect, it } from "vitest";
import { safeReturnTo } from "./sign-in";

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
});
