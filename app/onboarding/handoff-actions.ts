"use server";

import { acknowledgeHandoff, revealClientSecret } from "@/lib/onboarding/manual-handoff";
import { runAction, runLinkInput } from "./action";

// Reveal the run's client secret once; the value travels only in this response, never in a page, URL or log. Refused in presenter mode.
export const revealSecretAction = runAction("revealSecretAction", runLinkInput, {
  presenter: true,
  run: ({ session, input, presenter }) => revealClientSecret(session, input.runId, { presenter }),
  revalidate: (input) => `/onboarding/${input.runId}`,
});

// Record that the admin gave the hand-off values to the vendor; the portal deletes the stored secret.
export const acknowledgeHandoffAction = runAction("acknowledgeHandoffAction", runLinkInput, {
  run: ({ session, input }) => acknowledgeHandoff(session, input.runId),
  revalidate: (input) => `/onboarding/${input.runId}`,
});
