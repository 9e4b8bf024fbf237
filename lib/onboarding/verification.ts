// Running the Verification step again from the run page: tenant-authorized, audited, executed in the background.
import "server-only";
import { failure, type ActionResult } from "@/lib/action-result";
import { recordAuditEvent } from "@/lib/db/audit";
import { setRunStatus } from "@/lib/db/runs";
import type { SessionWithUser } from "@/lib/db/sessions";
import { reopenFinishedStep } from "@/lib/db/step-reopen";
import { runRemainingSteps } from "@/lib/engine/drive-run";
import { STEP_MODULES } from "@/lib/engine/step-modules";
import { env } from "@/lib/env";
import { maskText } from "@/lib/presenter";
import { parseVerificationOutput, type VerificationCheck } from "@/lib/steps/verification-results";
import { getRunView, runViewFor, type RunView } from "./run-control";
import { sessionTokens } from "@/lib/auth/tokens";

const STEP_ID = "verification";

/** Reopen the run's Verification step and run it again as the signed-in admin (once every earlier step is done). */
export async function rerunVerification(session: SessionWithUser, runId: string): Promise<ActionResult<{ runId: string }>> {
  const view = await getRunView(session, runId);
  if (!view) return failure("This onboarding run doesn't exist or belongs to another tenant.", { code: "forbidden" });
  const step = view.run.steps.find((s) => s.stepId === STEP_ID);
  if (!step)
    return failure("This run was started before the portal had a Verification step. Start a new run to verify.", { code: "not_found" });
  if (view.run.steps.some((s) => s.position < step.position && s.status !== "done")) {
    return failure("Verification runs once every earlier step is done.", { code: "conflict" });
  }
  if (view.run.status !== "completed" && view.run.status !== "failed") {
    return failure(view.run.status === "running" ? "Verification is already running." : `This run is ${view.run.status}.`, {
      code: "conflict",
    });
  }
  // The run's status moves first (conditional): an offboarding or another re-run that got there first wins.
  if (!(await setRunStatus(runId, "running", { from: ["completed", "failed"] }))) {
    return failure("Verification was started by someone else a moment ago, or the run changed. Reload to see it.", { code: "busy" });
  }
  if (!(await reopenFinishedStep(runId, STEP_ID))) {
    await setRunStatus(runId, view.run.status, { from: ["running"] });
    return failure("Verification was started by someone else a moment ago. Its progress shows here.", { code: "busy" });
  }
  await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: "verification.rerun_requested",
    target: runId,
    runId,
    outcome: "success",
  });
  // Runs after the response; only the reopened step is left, so only it executes.
  void runRemainingSteps({
    runId,
    tenantId: session.user.tenantId,
    actor: { userId: session.user.id, upn: session.user.upn },
    tokens: sessionTokens(session),
    modules: STEP_MODULES,
    policy: { leaseTtlMs: env().STEP_LEASE_TTL_SECONDS * 1000 },
  });
  return { ok: true, data: { runId } };
}

/** What the run page shows of verification: the latest checks (masked in presenter mode) and whether it can run again. */
export interface VerificationView {
  status: string;
  ranAt: string | null;
  checks: VerificationCheck[];
  canRerun: boolean;
}

/** The run's verification results for the session's tenant; null when the run isn't theirs or has no Verification step. */
export async function getVerificationView(
  session: SessionWithUser,
  runId: string,
  { presenter = false, view: given }: { presenter?: boolean; view?: RunView | null } = {},
): Promise<VerificationView | null> {
  const view = await runViewFor(session, runId, given);
  const step = view?.run.steps.find((s) => s.stepId === STEP_ID);
  if (!view || !step) return null;
  const out = parseVerificationOutput(step.outputs);
  const shown = presenter ? maskText : (text: string) => text;
  const earlierDone = view.run.steps.every((s) => s.position >= step.position || s.status === "done");
  return {
    status: step.status,
    ranAt: out?.ranAt ?? null,
    checks: (out?.checks ?? []).map((c) => ({ ...c, id: shown(c.id), label: shown(c.label), reason: shown(c.reason) })),
    canRerun:
      earlierDone &&
      (view.run.status === "completed" || view.run.status === "failed") &&
      step.status !== "running" &&
      step.status !== "pending",
  };
}
