import { describe, expect, it } from "vitest";
import type { StepRun } from "@/lib/db/step-runs";
import { STEP_IDS, type StepId } from "@/lib/steps/registry";
import { heldBackBy } from "@/lib/steps/registry";
import { displayStatus } from "./step-list";

const NOW = new Date("2026-01-01T12:00:00Z");

/** The run's steps with the given statuses (the rest pending). */
function steps(statuses: Partial<Record<StepId, StepRun["status"]>>): StepRun[] {
  return STEP_IDS.map(
    (stepId, position) =>
      ({
        runId: "run",
        stepId,
        position,
        status: statuses[stepId] ?? "pending",
        leaseOwner: null,
        leaseExpiresAt: null,
        attempts: 0,
        outputs: null,
        progress: null,
      }) as unknown as StepRun,
  );
}

describe("the stepper over the step graph", () => {
  it("holds back only what needs a failed step, naming it; the independent branch shows as it is", () => {
    const run = steps({ storage: "done", "diagnostic-settings": "running", "app-registration": "failed", "custom-role": "done" });
    const shown = Object.fromEntries(run.map((s) => [s.stepId, displayStatus(s, NOW, run)]));
    expect(shown).toEqual({
      storage: "done",
      "diagnostic-settings": "running",
      "app-registration": "failed",
      "custom-role": "done",
      "role-assignments": "blocked",
      "workbench-handoff": "blocked",
      verification: "blocked",
    });
    // Through the steps between: the hand-off waits on Role assignments, which waits on the failed App registration.
    expect(heldBackBy("workbench-handoff", run)).toEqual(["app-registration"]);
    expect(heldBackBy("diagnostic-settings", run)).toEqual([]);
  });

  it("names every failed step behind a step, in display order, and shows several running steps as running", () => {
    const run = steps({ storage: "done", "diagnostic-settings": "failed", "app-registration": "needs_admin", "custom-role": "running" });
    expect(heldBackBy("verification", run)).toEqual(["diagnostic-settings", "app-registration"]);
    expect(heldBackBy("role-assignments", run)).toEqual(["app-registration"]);
    const both = steps({ storage: "running", "app-registration": "running", "custom-role": "running" });
    expect(both.map((s) => displayStatus(s, NOW, both)).filter((s) => s === "running")).toHaveLength(3);
    // Without the run's steps (or with nothing failed) a waiting step is plain pending.
    expect(displayStatus(run[4]!, NOW)).toBe("pending");
    expect(displayStatus(both[4]!, NOW, both)).toBe("pending");
  });
});
