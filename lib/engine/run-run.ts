// Drives a whole run: plans it (reads only), executes its remaining steps in order, and flags interrupted steps.
import {
  acquireStepLease,
  getRunForTenant,
  listExpiredRunningSteps,
  recordAuditEvent,
  releaseStepLease,
  setRunStatus,
  type StepAttention,
  type StepError,
} from "@/lib/db";
import type { RunConfig } from "@/lib/steps/config";
import { STEP_IDS, type StepId } from "@/lib/steps/registry";
import type { PlannedChange, StepContext } from "@/lib/steps/types";
import { outputsOf, type Actor } from "./context";
import { executeStep, INTERRUPTED, type EngineOptions, type ExecuteStepResult, type StepModules } from "./execute-step";
import { newLeaseOwner } from "./ids";
import { backoffMs, classifyFailure, DEFAULT_POLICY, type EnginePolicy } from "./policy";
import { credentialFor, type TokenProvider, type TokenUnavailableError } from "./tokens";

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

/** One step's part of a plan; `error` when its live state couldn't be read (changes is then empty). */
export interface PlannedStep {
  stepId: StepId;
  changes: PlannedChange[];
  error?: StepError;
}

/** What planRun needs; runId (when the run exists) lets steps derive the same names the apply will use. */
export interface PlanRunInput extends EngineOptions {
  config: RunConfig;
  tenantId: string;
  tokens: TokenProvider;
  modules: StepModules;
  runId?: string;
  actorUpn?: string;
}

/** Read every step's live state and plan it, in run order, without writing anything. Never rejects on Azure errors. */
export async function planRun(input: PlanRunInput): Promise<PlannedStep[]> {
  const policy: EnginePolicy = { ...DEFAULT_POLICY, ...input.policy };
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const planned: PlannedStep[] = [];
  for (const stepId of STEP_IDS) {
    const stepModule = input.modules[stepId];
    const state: { tokenFailure?: TokenUnavailableError } = {};
    const ctx = readOnlyContext(input, (error) => {
      state.tokenFailure = error;
    });
    for (let attempt = 1; ; attempt++) {
      state.tokenFailure = undefined;
      try {
        planned.push({ stepId, changes: stepModule.plan(ctx, await stepModule.read(ctx)) });
        break;
      } catch (error) {
        const c = classifyFailure(error, {
          action: `read what "${stepId}" would change`,
          createdRecently: false,
          ...(state.tokenFailure ? { tokenFailure: state.tokenFailure } : {}),
        });
        if (c.kind === "transient" && attempt < policy.transientAttempts) {
          await sleep(
            c.retryAfterMs === undefined
              ? backoffMs(attempt, policy.transientBaseDelayMs, policy.transientMaxDelayMs)
              : Math.min(c.retryAfterMs, policy.retryAfterMaxMs),
          );
          continue;
        }
        planned.push({
          stepId,
          changes: [],
          error: c.kind === "lease_lost" ? { code: "unknown", message: "Planning was interrupted." } : c.error,
        });
        break;
      }
    }
  }
  return planned;
}

// Planning happens before the admin approved anything: any attempt to write is a bug in a step, refused loudly.
function readOnlyContext(input: PlanRunInput, onTokenFailure: (error: TokenUnavailableError) => void): StepContext {
  const refuse = (what: string) => () => Promise.reject(new Error(`A step tried to ${what} while planning; planning only reads.`));
  return {
    runId: input.runId ?? "plan-preview",
    tenantId: input.tenantId,
    actorUpn: input.actorUpn ?? "",
    config: input.config,
    arm: credentialFor(input.tokens, "arm", onTokenFailure),
    graph: credentialFor(input.tokens, "graph", onTokenFailure),
    outputs: outputsOf([]),
    write: refuse("write to Azure"),
    progress: () => Promise.resolve(),
    wroteBefore: () => Promise.resolve(false),
    secrets: { put: refuse("store a secret"), get: () => Promise.resolve(null), delete: refuse("delete a secret") },
  };
}

/** What resumeInterruptedSteps found and flagged. */
export interface InterruptedStep {
  runId: string;
  tenantId: string;
  stepId: string;
}

/**
 * At server start: steps left running by a crash (lease expired) become pending with an "interrupted" error, so the
 * run's page offers Resume. Nothing is executed: there is no admin token at startup.
 */
export async function resumeInterruptedSteps(options: { leaseTtlMs?: number } = {}): Promise<InterruptedStep[]> {
  const flagged: InterruptedStep[] = [];
  const ttl = options.leaseTtlMs ?? DEFAULT_POLICY.leaseTtlMs;
  for (const step of await listExpiredRunningSteps({ limit: 1000 })) {
    // Taking the expired lease first makes this a compare-and-set: a resume that took the step meanwhile wins.
    const owner = newLeaseOwner();
    if (!(await acquireStepLease(step.runId, step.stepId, owner, ttl))) continue;
    if (!(await releaseStepLease(step.runId, step.stepId, owner, { status: "pending", error: INTERRUPTED }))) continue;
    flagged.push({ runId: step.runId, tenantId: step.tenantId, stepId: step.stepId });
    await recordAuditEvent({
      tenantId: step.tenantId,
      actorUpn: "system",
      action: "step.interrupted",
      target: step.stepId,
      runId: step.runId,
      outcome: "failure",
      detail: { runId: step.runId, stepId: step.stepId },
    });
  }
  return flagged;
}
