// Drives a run through its step graph: every step whose needs are done runs at once, until nothing more can run.
import "server-only";
import { getRunForTenant, recordAuditEvent, setRunStatus, type StepAttention } from "@/lib/db";
import { errorText, log, withLogContext } from "@/lib/log";
import { needsOf, STEP_IDS, type StepId } from "@/lib/steps/registry";
import { type Actor } from "./context";
import { executeStep, INTERRUPTED, type EngineOptions, type ExecuteStepResult, type StepModules } from "./execute-step";
import { draining } from "./shutdown";
import type { TokenProvider } from "@/lib/auth/tokens";

/** A run to continue as the acting admin. */
export interface RunRemainingStepsInput extends EngineOptions {
  runId: string;
  tenantId: string;
  actor: Actor;
  tokens: TokenProvider;
  modules: StepModules;
}

/** A step that failed or needs an admin in this drive, with its execution's result. */
export interface FailedStep {
  stepId: StepId;
  result: ExecuteStepResult;
}

/**
 * How the drive ended. completed / failed: the run's status was set. stopped: the run stays running, waiting for a
 * resume (a step is busy elsewhere, was handed back for sign-in, or the run isn't running).
 */
export type RunRemainingStepsResult =
  /** attention: what the steps could not do, when the run completed with exceptions. */
  | { outcome: "completed"; attention?: StepAttention[] }
  /** stepId / result: the first step to fail (in time); failures: every step that failed, in display order. */
  | { outcome: "failed"; stepId: StepId; result: ExecuteStepResult; failures: FailedStep[] }
  | { outcome: "stopped"; code: string; message: string; stepId?: StepId };

/**
 * Execute the run's unfinished steps, each as soon as the steps it needs are done, several at once, each under its own
 * lease. A failed step holds back only the steps that need it; when nothing more can run the run → failed (a step
 * failed) or completed. Safe to start without awaiting: it never rejects.
 */
export function runRemainingSteps(input: RunRemainingStepsInput): Promise<RunRemainingStepsResult> {
  return withLogContext({ runId: input.runId, tenantId: input.tenantId }, async () => {
    const started = performance.now();
    log().info({ event: "run.drive.start" }, `run ${input.runId}: drive started`);
    let result: RunRemainingStepsResult;
    try {
      result = await driveRun(input);
    } catch (error) {
      log().error({ event: "run.drive.crashed", error: errorText(error) }, `run ${input.runId}: drive crashed`);
      result = { outcome: "stopped", code: INTERRUPTED.code, message: INTERRUPTED.message };
    }
    const durationMs = Math.round(performance.now() - started);
    const code = result.outcome === "stopped" ? result.code : undefined;
    log().info(
      { event: "run.drive.end", outcome: result.outcome, durationMs, ...(code ? { code } : {}) },
      `run ${input.runId}: ${result.outcome}`,
    );
    return result;
  });
}

interface Settled {
  stepId: StepId;
  result: ExecuteStepResult;
}

/** How often a drive tries a step another execution held (busy) before leaving it to that execution. */
const BUSY_TRIES = 3;

type Stopped = Extract<RunRemainingStepsResult, { outcome: "stopped" }>;

async function driveRun(input: RunRemainingStepsInput): Promise<RunRemainingStepsResult> {
  const { runId, tenantId } = input;
  const run = await getRunForTenant(runId, tenantId);
  if (!run) return { outcome: "stopped", code: "not_found", message: "This onboarding run does not exist." };
  if (run.status !== "running") return { outcome: "stopped", code: "not_running", message: `This run is ${run.status}.` };

  const inRun = run.steps.map((s) => s.stepId as StepId);
  let stored = new Map(run.steps.map((s) => [s.stepId as StepId, s.status]));
  const done = new Set<StepId>(inRun.filter((id) => stored.get(id) === "done"));
  // Each step settles at most once per drive: a step that failed here waits for a Retry, not for the next loop.
  const settled = new Set<StepId>();
  const busyTries = new Map<StepId, number>();
  const failures: FailedStep[] = [];
  let stopped: Stopped | undefined;
  let firstBusy: Stopped | undefined;
  const running = new Map<StepId, Promise<Settled>>();

  // A need the run doesn't have (a run made before the step existed) holds nothing back.
  const ready = (id: StepId) => needsOf(id).every((n) => done.has(n) || !inRun.includes(n));
  // A step another execution held is tried again only once that execution handed it back (pending).
  const startable = (id: StepId) => {
    const tries = busyTries.get(id) ?? 0;
    return (
      !done.has(id) &&
      !settled.has(id) &&
      !running.has(id) &&
      ready(id) &&
      (tries === 0 || (tries < BUSY_TRIES && stored.get(id) === "pending"))
    );
  };
  for (;;) {
    // A server shutting down starts no step: the steps under way stop before their next write and are handed back.
    if (draining()) stopped ??= { outcome: "stopped", code: INTERRUPTED.code, message: INTERRUPTED.message };
    // After a stop (handed back for sign-in, interrupted, cancelled) nothing new starts: the steps under way finish.
    if (!stopped) for (const stepId of inRun.filter(startable)) running.set(stepId, execute(input, stepId));
    if (running.size === 0) {
      if (stopped) break;
      // Another execution (a second server, a Retry) may have finished steps meanwhile that make more ready here.
      const fresh = await getRunForTenant(runId, tenantId);
      if (!fresh || fresh.status !== "running") break;
      stored = new Map(fresh.steps.map((s) => [s.stepId as StepId, s.status]));
      for (const s of fresh.steps) if (s.status === "done") done.add(s.stepId as StepId);
      if (!inRun.some(startable)) break;
      continue;
    }
    const { stepId, result } = await Promise.race(running.values());
    running.delete(stepId);
    if (!result.ok && result.code === "busy") {
      busyTries.set(stepId, (busyTries.get(stepId) ?? 0) + 1);
      firstBusy ??= { outcome: "stopped", code: result.code, message: result.message, stepId };
      continue;
    }
    settled.add(stepId);
    if (result.ok) done.add(stepId);
    else if (result.status === "failed" || result.status === "needs_admin") failures.push({ stepId, result });
    else stopped ??= { outcome: "stopped", code: result.code, message: result.message, stepId };
  }

  const [first] = failures;
  if (first) return failRun(input, first, failures);
  if (stopped) return stopped;
  if (firstBusy && inRun.some((id) => !done.has(id))) return firstBusy;
  return completeRun(input);
}

/** executeStep, with a rejection (only the database can throw) as an interrupted result, so sibling steps settle normally. */
async function execute(input: RunRemainingStepsInput, stepId: StepId): Promise<Settled> {
  try {
    return { stepId, result: await executeStep({ ...input, stepId }) };
  } catch (error) {
    log().error({ event: "step.crashed", stepId, error: errorText(error) }, `step ${stepId} crashed`);
    return { stepId, result: { ok: false, code: INTERRUPTED.code, message: INTERRUPTED.message } };
  }
}

async function failRun(input: RunRemainingStepsInput, first: FailedStep, failures: FailedStep[]): Promise<RunRemainingStepsResult> {
  const { runId, tenantId, actor } = input;
  const inOrder = [...failures].sort((a, b) => STEP_IDS.indexOf(a.stepId) - STEP_IDS.indexOf(b.stepId));
  // A Retry beside this drive may have run the failed steps again meanwhile: then that drive ends the run.
  const run = await getRunForTenant(runId, tenantId);
  const stillFailed = (f: FailedStep) =>
    run?.steps.some((s) => s.stepId === f.stepId && (s.status === "failed" || s.status === "needs_admin"));
  if (!failures.some(stillFailed))
    return { outcome: "stopped", code: "busy", message: "Another execution is working on this run. Its progress shows here." };
  // From running only: a cancel that raced these steps wins.
  if (await setRunStatus(runId, "failed", { from: ["running"] })) {
    log().warn({ event: "run.failed", failedStep: first.stepId }, `run ${runId} failed at ${first.stepId}`);
    const code = first.result.ok ? undefined : first.result.code;
    await recordAuditEvent({
      tenantId,
      actorUserId: actor.userId,
      actorUpn: actor.upn,
      action: "run.failed",
      target: runId,
      runId,
      outcome: "failure",
      detail: {
        stepId: first.stepId,
        ...(code ? { code } : {}),
        ...(failures.length > 1 ? { failedSteps: inOrder.map((f) => f.stepId) } : {}),
      },
    });
  }
  return { outcome: "failed", stepId: first.stepId, result: first.result, failures: inOrder };
}

async function completeRun(input: RunRemainingStepsInput): Promise<RunRemainingStepsResult> {
  const { runId, tenantId, actor } = input;
  // The attention of every step, in display order, as stored (steps done in earlier drives included).
  const run = await getRunForTenant(runId, tenantId);
  if (!run) return { outcome: "stopped", code: "not_found", message: "This onboarding run does not exist." };
  if (run.steps.some((s) => s.status !== "done")) {
    // Another execution reopened or is still working on a step (a Retry beside this drive): that drive ends the run.
    return { outcome: "stopped", code: "busy", message: "Another execution is working on this run. Its progress shows here." };
  }
  const attention = run.steps.flatMap((s) => s.attention ?? []);
  // From running only: a run cancelled (or completed by another admin's drive) meanwhile keeps its status.
  if (!(await setRunStatus(runId, "completed", { from: ["running"] }))) {
    return { outcome: "stopped", code: "not_running", message: "This run was ended by someone else meanwhile." };
  }
  log().info({ event: "run.completed", attention: attention.length }, `run ${runId} completed`);
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
