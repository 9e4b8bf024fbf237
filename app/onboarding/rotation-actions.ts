"use server";

import { requestRotation } from "@/lib/rotation/service";
import { runAction, runLinkInput } from "./action";

// Start (or continue) the rotation of the run's client secret; it runs on the server and the page shows its progress.
export const rotateSecretAction = runAction("rotateSecretAction", runLinkInput, {
  run: async ({ session, input }) => {
    const result = await requestRotation(session, input.runId);
    return result.ok ? { ok: true, data: { runId: input.runId } } : result;
  },
  revalidate: (input) => `/onboarding/${input.runId}`,
});
