import { describe, expect, it } from "vitest";
import { ACTION_DECISIONS } from "@/lib/authz/actions";
import { RUN_STATUSES } from "@/lib/db/runs";
import { ACTION_STATES, actionAllowedIn, ALREADY_CONFIRMED, lifecycleRefusal, RUN_TRANSITIONS, statusesLeadingTo } from "./lifecycle";

describe("the run lifecycle", () => {
  it("tells a confirmation that lost the race the same words whether the gate or the confirmation refused it", () => {
    for (const status of ["running", "failed", "completed", "cancelled"] as const) {
      expect(lifecycleRefusal(status, "confirmPlanAction")).toBe(ALREADY_CONFIRMED);
    }
    expect(lifecycleRefusal("running", "changeChoicesAction")).toBe("This run is still working. Wait for it to finish or stop.");
  });

  it("has a row for every status and names only known statuses", () => {
    expect(Object.keys(RUN_TRANSITIONS).sort()).toEqual([...RUN_STATUSES].sort());
    for (const next of Object.values(RUN_TRANSITIONS)) for (const s of next) expect(RUN_STATUSES).toContain(s);
  });

  it("gives every run action the states it may start in", () => {
    const runActions = Object.keys(ACTION_DECISIONS).filter((a) => a !== "createRunAction" && a !== "checkStorageNameAction");
    expect(Object.keys(ACTION_STATES).sort()).toEqual(runActions.sort());
  });

  it("ends provisioning at offboarding: nothing leads back, and offboarded is final", () => {
    expect(RUN_TRANSITIONS.offboarding).toEqual(["offboarded"]);
    expect(RUN_TRANSITIONS.offboarded).toEqual([]);
    expect(statusesLeadingTo("offboarding").sort()).toEqual(["cancelled", "completed", "failed"]);
    for (const action of Object.keys(ACTION_STATES) as (keyof typeof ACTION_STATES)[]) {
      expect({ action, allowed: actionAllowedIn(action, "offboarded") }).toEqual({ action, allowed: false });
      if (action !== "startOffboardingAction")
        expect({ action, allowed: actionAllowedIn(action, "offboarding") }).toEqual({ action, allowed: false });
    }
  });

  it("lets every action's start state reach a transition the action makes", () => {
    expect(statusesLeadingTo("running")).toEqual(expect.arrayContaining(["planned", "failed", "completed"]));
    expect(statusesLeadingTo("planned")).toEqual(expect.arrayContaining(["draft", "completed"]));
  });
});
