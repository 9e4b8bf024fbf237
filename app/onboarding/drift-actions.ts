"use server";

import { formFields, formList } from "@/lib/form-fields";
import { extendCoverage, extendCoverageSchema, recheckCoverageView } from "@/lib/onboarding/drift";
import { formInput, runAction, runLinkInput } from "./action";

// Re-read Azure for a completed run: which clusters of its subscriptions don't send kube-audit to its accounts. Reads only.
export const recheckCoverageAction = runAction("recheckCoverageAction", runLinkInput, {
  presenter: true,
  run: ({ session, input, presenter }) => recheckCoverageView(session, input.runId, { presenter }),
  revalidate: (input) => `/onboarding/${input.runId}`,
});

// Extend the run to the selected clusters: reopens it with a stored plan for the admin to review and confirm.
export const extendCoverageAction = runAction(
  "extendCoverageAction",
  formInput(extendCoverageSchema, "This selection is not valid. Check coverage again.", (form) => ({
    runId: formFields(form).runId,
    clusterKeys: formList(form, "cluster"),
  })),
  {
    run: ({ session, input }) => extendCoverage(session, input.runId, input.clusterKeys),
    revalidate: (input) => `/onboarding/${input.runId}`,
    redirect: (input) => `/onboarding/${input.runId}/plan`,
  },
);
