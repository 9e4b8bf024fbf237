import { describe, expect, it } from "vitest";
import { findAppRole } from "./find-app-role";
import type { AppRole } from "./get-service-principal-by-app-id";

const role = (over: Partial<AppRole>): AppRole => ({
  id: "00000000-0000-0000-0000-000000000001",
  value: "Data.Read",
  displayName: "Read Log Analytics data",
  allowedMemberTypes: ["Application"],
  isEnabled: true,
  ...over,
});

describe("findAppRole", () => {
  it("returns the enabled application role with that value, whatever its id", () => {
    const wanted = role({ id: "e8f6e161-84d0-4cd7-9441-2d46ec9ec3d5" });
    expect(findAppRole([role({ value: "Other" }), wanted], "Data.Read")).toBe(wanted);
  });

  it("ignores user-only and disabled roles and other values", () => {
    expect(
      findAppRole([role({ allowedMemberTypes: ["User"] }), role({ isEnabled: false }), role({ value: "data.read" })], "Data.Read"),
    ).toBeUndefined();
    expect(findAppRole([], "Data.Read")).toBeUndefined();
  });

  it("accepts roles open to users and applications", () => {
    const both = role({ allowedMemberTypes: ["User", "Application"] });
    expect(findAppRole([both], "Data.Read")).toBe(both);
  });
});
