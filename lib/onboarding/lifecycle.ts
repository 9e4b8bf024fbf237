// The run's lifecycle as one state machine: which transitions exist, and in which states each action may start.
// Every transition is a conditional UPDATE (setRunStatus with `from`), so two actions racing on one run can't both win.
import "server-only";
import type { ActionName } from "@/lib/authz/actions";
import type { RunStatus } from "@/lib/db/runs";

/**
 * draft → planned → running → completed | failed; failed → running (retry); completed → planned (extend);
 * completed | failed | cancelled → offboarding → offboarded. Offboarding is re-runnable until clean; offboarded is final.
 */
export const RUN_TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  draft: ["planned"],
  planned: ["planned", "running"],
  running: ["completed", "failed"],
  failed: ["running", "offboarding"],
  completed: ["planned", "running", "offboarding"],
  cancelled: ["offboarding"],
  offboarding: ["offboarded"],
  offboarded: [],
};

/** The statuses from which `to` can be reached: the `from` of its conditional UPDATE. */
export function statusesLeadingTo(to: RunStatus): RunStatus[] {
  return (Object.entries(RUN_TRANSITIONS) as [RunStatus, readonly RunStatus[]][])
    .filter(([, next]) => next.includes(to))
    .map(([from]) => from);
}

/** In which run statuses each run action may start (the transition it makes is checked again when it writes). */
export const ACTION_STATES: Record<Exclude<ActionName, "checkStorageNameAction" | "createRunAction">, readonly RunStatus[]> = {
  replanAction: ["draft", "planned"],
  leaveClusterOutAction: ["draft", "planned"],
  confirmPlanAction: ["planned"],
  continueRunAction: ["running", "failed"],
  changeChoicesAction: ["failed"],
  askAnotherAdminAction: ["running", "failed"],
  // The manual hand-off panel appears once the hand-off step is done, while Verification may still run.
  revealSecretAction: ["running", "completed", "failed"],
  acknowledgeHandoffAction: ["running", "completed", "failed"],
  rotateSecretAction: ["completed"],
  rerunVerificationAction: ["completed", "failed"],
  recheckCoverageAction: ["completed"],
  extendCoverageAction: ["completed"],
  startOffboardingAction: ["completed", "failed", "cancelled", "offboarding"],
};

/** Whether `action` may start on a run in `status`. */
export function actionAllowedIn(action: keyof typeof ACTION_STATES, status: RunStatus): boolean {
  return ACTION_STATES[action].includes(status);
}

/** What a confirmation that lost the race to another one hears (from the gate or from the confirmation itself). */
export const ALREADY_CONFIRMED = "This plan was already confirmed or the run has ended.";

/** Words for a refusal by status; `action` lets a confirmation past its plan say so in the same words either way. */
export function lifecycleRefusal(status: RunStatus, action?: keyof typeof ACTION_STATES): string {
  if (action === "confirmPlanAction" && status !== "draft" && status !== "planned") return ALREADY_CONFIRMED;
  switch (status) {
    case "offboarding":
      return "What this run created is being removed (or its removal is incomplete), so it can't be changed or continued. Finish the removal from its page.";
    case "offboarded":
      return "What this run created has been removed. Start a new onboarding to connect these clusters again.";
    case "draft":
    case "planned":
      return "This run's plan hasn't been confirmed yet. Review the plan first.";
    case "running":
      return "This run is still working. Wait for it to finish or stop.";
    default:
      return `This run is ${status}, so this can't be done now. Reload the page to see where it stands.`;
  }
}
