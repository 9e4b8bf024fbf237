// Every server action and the decision that authorizes it: the README's table and the completeness tests read this.
import "server-only";

/** The decisions of lib/authz/decide.ts, by the name the README uses. */
export type DecisionName = "view" | "plan" | "run-step" | "credential" | "offboard";

/** Server action (exported name) → its decision. An action missing here fails the build-manifest test. */
export const ACTION_DECISIONS = {
  checkStorageNameAction: "plan",
  createRunAction: "plan",
  replanAction: "plan",
  extendCoverageAction: "plan",
  // Changes an unconfirmed run's configuration and plans it again, as a re-plan does.
  leaveClusterOutAction: "plan",
  confirmPlanAction: "run-step",
  continueRunAction: "run-step",
  // Changes the run's choices and retries its failed step: the same decision as Retry.
  changeChoicesAction: "run-step",
  revealSecretAction: "credential",
  acknowledgeHandoffAction: "credential",
  rotateSecretAction: "credential",
  rerunVerificationAction: "credential",
  startOffboardingAction: "offboard",
  // Read-only for Azure: the coverage check reads with the user's own token, so a Reader sees only what they can read.
  recheckCoverageAction: "view",
  // What someone who can't act does: records who asked, and shows a message to send.
  askAnotherAdminAction: "view",
} as const satisfies Record<string, DecisionName>;

export type ActionName = keyof typeof ACTION_DECISIONS;
