"use server";

import { checkStorageName, createOnboardingRun } from "@/lib/onboarding/new-run";
import { confirmAndStart, continueRun, replan } from "@/lib/onboarding/run-control";
import { confirmPlanSchema, newRunSchema, storageNameCheckSchema } from "@/lib/onboarding/schemas";
import { formInput, planAction, runAction, runLinkInput } from "./action";

// Live check of a storage account name while the admin types.
export const checkStorageNameAction = planAction({
  action: "checkStorageNameAction",
  schema: storageNameCheckSchema,
  invalid: "Check the name.",
  scope: (input) => ({ storageSubscriptions: [input.subscriptionId], clusterSubscriptions: [] }),
  run: checkStorageName,
});

// Create a run from the admin's choices and compute its plan; nothing is written to Azure yet.
export const createRunAction = planAction({
  action: "createRunAction",
  schema: newRunSchema,
  invalid: "Check the highlighted fields.",
  scope: (input) => ({ storageSubscriptions: input.storage.map((s) => s.subscriptionId), clusterSubscriptions: input.subscriptionIds }),
  run: createOnboardingRun,
});

// Confirm the plan the admin saw and start the steps.
export const confirmPlanAction = runAction(
  "confirmPlanAction",
  formInput(confirmPlanSchema, "This confirmation is not valid. Reload the plan."),
  {
    run: ({ session, input }) => confirmAndStart(session, input.runId, input.planHash),
    // A refused confirmation leaves the cache alone; a started run opens on its page.
    revalidate: (input, result) => (result.ok ? `/onboarding/${input.runId}` : null),
    redirect: (input) => `/onboarding/${input.runId}`,
  },
);

// Continue (retry or resume) a run from its first unfinished step.
export const continueRunAction = runAction("continueRunAction", runLinkInput, {
  run: ({ session, input }) => continueRun(session, input.runId),
  revalidate: (input) => `/onboarding/${input.runId}`,
});

// Re-read Azure and recompute a plan that isn't confirmed yet.
export const replanAction = runAction("replanAction", runLinkInput, {
  run: ({ session, input }) => replan(session, input.runId),
  revalidate: (input) => `/onboarding/${input.runId}/plan`,
});
