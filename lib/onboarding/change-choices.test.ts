import { describe, expect, it } from "vitest";
import { describeViolation } from "@/lib/azure/policy-denial";
import type { StepRun } from "@/lib/db/step-runs";
import { choiceHints, policyStoppedStep } from "./change-choices";

function step(over: Partial<StepRun>): StepRun {
  const at = new Date(0);
  return {
    id: "s",
    runId: "r",
    stepId: "storage",
    position: 0,
    status: "failed",
    progress: null,
    outputs: null,
    error: { code: "policy_denied", message: "" },
    attempts: 1,
    leaseOwner: null,
    leaseExpiresAt: null,
    startedAt: at,
    finishedAt: at,
    updatedAt: at,
    ...over,
  };
}

describe("choiceHints", () => {
  it("reads back the tags and the network restriction the policy message asks for", () => {
    const message = [
      describeViolation({
        assignment: "Require costCenter on resource groups",
        definitionName: "96670d01-0a4d-4649-9c89-2d3abc0a5025",
        parameters: { tagName: "costCenter" },
        paths: [],
      }),
      describeViolation({
        assignment: "Env is prod",
        definitionName: "1e30110a-5ceb-460c-a204-c1c3969c6d62",
        parameters: { tagName: "env", tagValue: "prod" },
        paths: [],
      }),
      describeViolation({
        assignment: "Storage firewall",
        definitionName: "34c877ad-507e-4c82-993e-3452a6e0ad3c",
        parameters: {},
        paths: [],
      }),
    ].join(" ");
    expect(choiceHints(message)).toEqual({
      tags: [
        { name: "costCenter", requiredBy: "Require costCenter on resource groups" },
        { name: "env", value: "prod", requiredBy: "Env is prod" },
      ],
      restrictNetwork: true,
    });
  });

  it("asks nothing for a policy the page can't satisfy", () => {
    expect(
      choiceHints(
        describeViolation({
          assignment: "No public network",
          definitionName: "b2982f36-99f2-4db5-8eff-283140c09693",
          parameters: {},
          paths: [],
        }),
      ),
    ).toEqual({ tags: [], restrictNetwork: false });
  });
});

describe("policyStoppedStep", () => {
  it("is the storage step of a failed run when a policy stopped it, else null", () => {
    expect(policyStoppedStep({ status: "failed", steps: [step({})] })?.stepId).toBe("storage");
    expect(policyStoppedStep({ status: "running", steps: [step({})] })).toBeNull();
    expect(policyStoppedStep({ status: "failed", steps: [step({ error: { code: "forbidden", message: "" } })] })).toBeNull();
    expect(policyStoppedStep({ status: "failed", steps: [step({ stepId: "diagnostic-settings" })] })).toBeNull();
  });
});
