// Drives a run: executes its remaining steps until all are done (run → completed) or one fails or needs an admin.
import { getRunForTenant, recordAuditEvent, setRunStatus, type StepAttention } from "@/lib/db";
import type { StepId } from "@/lib/steps/registry";
import { type Actor } from "./context";
import { executeStep, INTERRUPTED, type EngineOptions, type ExecuteStepResult, type StepModules } from "./execute-step";
import type { TokenProvider } from "./tokens";

/** A run to continue as the acting admin. */
export interface RunRemainingStepsInput extends EngineOptions {
  runId: string;
  tenantId: string;
  actor: Actor;
  tokens: TokenProvider;
  modules: StepModules;
}

/**
 * How the drive ended. completed / failed: the run's status was set. stopped: the run stays running, waiting for a
 * resume (a step is busy elsewhere, was handed back for sign-in, or the run isn't running).
 */
export type RunRemainingStepsResult =
  /** attention: what the steps could not do, when the run completed with exceptions. */
  | { outcome: "completed"; attention?: StepAttention[] }
  | { outcome: "failed"; stepId: StepId; result: ExecuteStepResult }
  | { outcome: "stopped"; code: string; message: string; stepId?: StepId };

/**
 * Execute the run's unfinished steps in order until one fails or needs an admin (run → failed) or all are done
 * (run → completed). Safe to start without awaiting: it never rejects.
 */
export async function runRemainingSteps(input: RunRemainingStepsInput): Promise<RunRemainingStepsResult> {
  try {
    return await driveRun(input);
  } catch (error) {
    console.error(`[engine] run ${input.runId}: ${error instanceof Error ? error.message : "unknown error"}`);
    return { outcome: "stopped", code: INTERRUPTED.code, message: INTERRUPTED.message };
  }
}

async function driveRun(input: RunRemainingStepsInput): Promise<RunRemainingStepsResult> {
  const { runId, tenantId, actor } = input;
  const run = await getRunForTenant(runId, tenantId);
  if (!run) return { outcome: "stopped", code: "not_found", message: "This onboarding run does not exist." };
  if (run.status !== "running") return { outcome: "stopped", code: "not_running", message: `This run is ${run.status}.` };

  const attention: StepAttention[] = [];
  for (const step of run.steps) {
    if (step.status === "done") {
      attention.push(...(step.attention ?? []));
      continue;
    }
    const stepId = step.stepId as StepId;
    const result = await executeStep({ ...input, stepId });
    if (result.ok) {
      attention.push(...(result.attention ?? []));
      continue;
    }
    if (result.status === "failed" || result.status === "needs_admin") {
      // From running only: a cancel that raced this step wins.
      if (await setRunStatus(runId, "failed", { from: ["running"] })) {
        await recordAuditEvent({
          tenantId,
          actorUserId: actor.userId,
          actorUpn: actor.upn,
          action: "run.failed",
          target: runId,
          runId,
          outcome: "failure",
          detail: { stepId, code: result.code },
        });
      }
      return { outcome: "failed", stepId, result };
    }
    return { outcome: "stopped", code: result.code, message: result.message, stepId };
  }
  // From running only: a run cancelled (or completed by another admin's drive) meanwhile keeps its status.
  if (!(await setRunStatus(runId, "completed", { from: ["running"] }))) {
    return { outcome: "stopped", code: "not_running", message: "This run was ended by someone else meanwhile." };
  }
  const needAttention = [...new Set(attention.map((a) => a.subject))];
  await recordAuditEvent({
    tenantId,
    actorUserId: actor.userId,
    actorUpn: actor.upn,
    action: "run.completed",
    target: runId,
    runId,
    outcome: "success",
    ...(needAttention.length ? { detail: { clustersNeedingAttention: needAttention } } : {}),
  });
  return attention.length ? { outcome: "completed", attention } : { outcome: "completed" };
}
