import { describe, expect, it } from "vitest";
import { STEP_IDS } from "@/lib/steps/registry";
import { STEP_MODULES } from "./step-modules";

describe("STEP_MODULES", () => {
  it("maps every step of the registry, in order, to the module with that id", () => {
    expect(Object.keys(STEP_MODULES)).toEqual([...STEP_IDS]);
    for (const id of STEP_IDS) expect(STEP_MODULES[id].id).toBe(id);
  });
});
