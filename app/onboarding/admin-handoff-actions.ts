"use server";

import { requestAdminHandoff } from "@/lib/onboarding/admin-handoff";
import { runAction, runLinkInput } from "./action";

// Record that the admin asked a colleague to continue the step that needs another admin (audited, shown on the step).
export const askAnotherAdminAction = runAction("askAnotherAdminAction", runLinkInput, {
  run: ({ session, input }) => requestAdminHandoff(session, input.runId),
  revalidate: (input) => `/onboarding/${input.runId}`,
});
