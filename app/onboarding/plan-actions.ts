"use server";

import { leaveClusterOut, leaveClusterOutSchema } from "@/lib/onboarding/plan";
import { formInput, runAction } from "./action";

// Leave a cluster the plan flags as impossible out of the run, and plan the rest again; nothing is written to Azure.
export const leaveClusterOutAction = runAction(
  "leaveClusterOutAction",
  formInput(leaveClusterOutSchema, "This cluster is not part of this plan. Reload the plan."),
  {
    run: ({ session, view, input }) => leaveClusterOut(session, view, input.cluster),
    revalidate: (input) => `/onboarding/${input.runId}/plan`,
  },
);
