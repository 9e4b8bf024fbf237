import { describe, expect, it } from "vitest";
import { STEP_IDS, STEP_NEEDS } from "@/lib/steps/registry";
import { removalOrder } from "./plan";

describe("removalOrder", () => {
  it("removes every step after each step that needs it, all steps once", () => {
    const order = removalOrder();
    expect([...order].sort()).toEqual([...STEP_IDS].sort());
    for (const step of STEP_IDS)
      for (const need of STEP_NEEDS[step]) expect(order.indexOf(step), `${step} before ${need}`).toBeLessThan(order.indexOf(need));
  });

  it("takes the Workbench device and the vendor's access away before the roles, the app and the storage", () => {
    expect(removalOrder()).toEqual([
      "verification",
      "workbench-handoff",
      "role-assignments",
      "custom-role",
      "app-registration",
      "diagnostic-settings",
      "storage",
    ]);
  });
});
