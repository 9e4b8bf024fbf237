"use server";

import { startOffboarding } from "@/lib/offboarding/control";
import { confirmPlanSchema } from "@/lib/onboarding/schemas";
import { formInput, runAction } from "./action";

// Confirm the removal plan the admin saw and start removing what the run created.
export const startOffboardingAction = runAction(
  "startOffboardingAction",
  formInput(confirmPlanSchema, "This confirmation is not valid. Reload the page."),
  {
    run: ({ session, input }) => startOffboarding(session, input.runId, input.planHash),
    revalidate: (input) => `/onboarding/${input.runId}/offboard`,
  },
);
