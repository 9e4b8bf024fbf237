"use server";

import { rerunVerification } from "@/lib/onboarding/verification";
import { runAction, runLinkInput } from "./action";

// Run the Verification step again (signs in as the app with a one-hour secret); tenant-authorized and audited in lib/.
export const rerunVerificationAction = runAction("rerunVerificationAction", runLinkInput, {
  run: ({ session, input }) => rerunVerification(session, input.runId),
  revalidate: (input) => `/onboarding/${input.runId}`,
});
