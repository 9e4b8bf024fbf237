// Runs one provisioning step under its lease: fresh read → apply → verify, with retries by error class.
import "server-only";
import {
  getRunForTenant,
  recordAuditEvent,
  releaseStepLease,
  setStepProgress,
  stepLease,
  type JsonValue,
  type StepAttention,
  type StepError,
  type StepOutcome,
  type StepStatus,
} from "@/lib/db";
import { runConfigSchema } from "@/lib/steps/config";
import { needsOf, stepById, type StepId } from "@/lib/steps/registry";
import type { StepContext, StepModule } from "@/lib/steps/types";
import { formatSeconds } from "@/lib/azure/timeouts";
import { env } from "@/lib/env";
import { errorText, log, withLogContext } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { buildStepContext, type Actor, type ContextObserver } from "./context";
import type { Heartbeat } from "./heartbeat";
import { newLeaseOwner } from "./ids";
import { runJob, type JobResult } from "./job";
import { ShutdownError } from "./shutdown";
import {
  backoffMs,
  classifyFailure,
  DEFAULT_POLICY,
  INTERRUPTED,
  noteRetry,
  retryBudget,
  retryLabel,
  type EnginePolicy,
  type RetryBudget,
} from "./policy";
import type { TokenProvider } from "@/lib/auth/tokens";

/** The error of an execution cut off by a crash or a lost database (defined with the classification). */
export { INTERRUPTED };

/** The step implementations by id, injected so tests (and future vendors) can swap them. */
export type StepModules = Readonly<Record<StepId, StepModule>>;

/** Test seams and tunables shared by executeStep and runRemainingSteps. */
export interface EngineOptions {
  policy?: Partial<EnginePolicy>;
  /** Clock for the replication budget. */
  now?: () => number;
  /** Waits between retries. */
  sleep?: (ms: number) => Promise<void>;
}

/** One step to execute, as the acting admin. */
export interface ExecuteStepInput extends EngineOptions {
  runId: string;
  tenantId: string;
  stepId: StepId;
  actor: Actor;
  tokens: TokenProvider;
  modules: StepModules;
}

/**
 * How the execution ended, for an action to return. busy: another execution holds the step (show its progress).
 * status is the step's status afterwards when this execution set it.
 */
export type ExecuteStepResult =
  | { ok: true; outputs: JsonValue | null; alreadyDone?: true; attention?: StepAttention[] }
  | { ok: false; code: string; message: string; status?: StepStatus; error?: StepError };

type AttemptOutcome = { kind: "lease_lost" } | { kind: "stalled" } | { kind: "released"; outcome: StepOutcome & { error?: StepError } };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Execute one step of a running run for the signed-in admin; never leaves the step leased when it returns. */
export function executeStep(input: ExecuteStepInput): Promise<ExecuteStepResult> {
  // Every line logged under the execution (its Azure requests, its retries) carries the run, step and tenant.
  const { runId, tenantId, stepId } = input;
  return withLogContext({ runId, tenantId, stepId }, () => executeInContext(input));
}

async function executeInContext(input: ExecuteStepInput): Promise<ExecuteStepResult> {
  const { runId, tenantId, stepId, actor } = input;
  const policy: EnginePolicy = { ...DEFAULT_POLICY, stallMs: env().STEP_STALL_SECONDS * 1000, ...input.policy };

  const run = await getRunForTenant(runId, tenantId);
  if (!run) return { ok: false, code: "not_found", message: "This onboarding run does not exist." };
  const step = run.steps.find((s) => s.stepId === stepId);
  const stepModule = input.modules[stepId] as StepModule | undefined;
  if (!step || !stepModule) return { ok: false, code: "not_found", message: "This run has no such step." };
  if (step.status === "done")
    return { ok: true, outputs: step.outputs, alreadyDone: true, ...(step.attention ? { attention: step.attention } : {}) };
  if (run.status !== "running") return { ok: false, code: "not_running", message: `This run is ${run.status}, so its steps can't run.` };
  // Only the steps it needs hold a step back; independent branches run beside it.
  const blocking = run.steps.find((s) => needsOf(stepId).includes(s.stepId as StepId) && s.status !== "done");
  if (blocking) {
    return { ok: false, code: "blocked", message: `"${titleOf(blocking.stepId)}" has to finish before "${titleOf(stepId)}" can run.` };
  }
  const config = runConfigSchema.safeParse(run.config);
  if (!config.success)
    return { ok: false, code: "invalid_config", message: "This run's saved choices are no longer valid. Start a new run." };

  const owner = newLeaseOwner();
  const sleep = input.sleep ?? defaultSleep;
  // Running when read: held by an execution whose lease this one can only take once it expired.
  const takeover = step.status === "running";
  let startedAt: number | undefined;
  const job = await runJob<AttemptOutcome>({
    lease: stepLease(runId, stepId),
    owner,
    ttlMs: policy.leaseTtlMs,
    stallMs: policy.stallMs,
    async work({ heartbeat, live }) {
      startedAt = stepStarted(stepId, step.attempts + 1, takeover);
      const { ctx, observer } = buildStepContext({
        runId,
        tenantId,
        stepId,
        actor,
        config: config.data,
        tokens: input.tokens,
        leaseOwner: owner,
        steps: run.steps,
        onProgress: () => heartbeat.touch(),
        live,
      });
      return attemptUntilSettled({
        stepModule,
        ctx,
        observer,
        heartbeat,
        budget: retryBudget(policy, input.now ?? Date.now),
        policy,
        sleep,
        onWait: (label) => setStepProgress(runId, stepId, owner, { ...(observer.lastProgress ?? { done: 0, total: 1 }), label }),
      });
    },
    release(end) {
      // Only the database can crash the work (step errors are classified): hand the step back for a resume.
      if (end.kind === "crashed") return releaseStepLease(runId, stepId, owner, { status: "pending", error: INTERRUPTED });
      if (end.kind === "stalled") return releaseStepLease(runId, stepId, owner, { status: "pending", error: stalledError(policy.stallMs) });
      if (end.kind === "lease_lost" || end.value.kind !== "released") return Promise.resolve(false);
      return releaseStepLease(runId, stepId, owner, end.value.outcome);
    },
  });
  if (startedAt !== undefined) stepEnded(stepId, startedAt, job);
  if (job.kind === "busy") {
    return {
      ok: false,
      code: "busy",
      message: "This step is already running, from another tab, admin or server. Its progress shows here.",
    };
  }
  const { end, released } = job;
  if (end.kind === "crashed") {
    // A server shutting down hands its steps back on purpose: expected, so not an error.
    if (end.error instanceof ShutdownError)
      log().info({ event: "step.handed_back" }, `step ${stepId} handed back: the server is shutting down`);
    else log().error({ event: "step.crashed", error: errorText(end.error) }, `step ${stepId} crashed`);
    return { ok: false, code: INTERRUPTED.code, message: INTERRUPTED.message, status: "pending", error: INTERRUPTED };
  }
  if (end.kind === "stalled") {
    const error = stalledError(policy.stallMs);
    log().error(
      { event: "step.stalled", stallMs: policy.stallMs },
      `step ${stepId}: no progress for ${policy.stallMs} ms, execution stopped`,
    );
    if (!released) return { ok: false, code: error.code, message: error.message };
    await recordAuditEvent({
      tenantId,
      actorUserId: actor.userId,
      actorUpn: actor.upn,
      action: "step.interrupted",
      target: stepId,
      runId,
      outcome: "failure",
      detail: { runId, stepId, reason: "stalled" },
    }).catch(() => undefined);
    return { ok: false, code: error.code, message: error.message, status: "pending", error };
  }
  if (end.kind === "lease_lost" || end.value.kind !== "released" || !released) {
    return { ok: false, code: "lease_lost", message: "Another execution took over this step. Its progress shows here." };
  }
  const { outcome } = end.value;
  await recordAuditEvent({
    tenantId,
    actorUserId: actor.userId,
    actorUpn: actor.upn,
    action: outcome.status === "done" ? "step.done" : "step.failed",
    target: stepId,
    runId,
    outcome: outcome.status === "done" ? "success" : outcome.status === "needs_admin" ? "denied" : "failure",
    detail: {
      runId,
      stepId,
      status: outcome.status,
      ...(outcome.error ? { code: outcome.error.code } : {}),
      ...(outcome.attention?.length ? { attention: outcome.attention.map((a) => ({ subject: a.subject, code: a.code })) } : {}),
    },
  });
  if (outcome.status === "done")
    return { ok: true, outputs: outcome.outputs ?? null, ...(outcome.attention ? { attention: outcome.attention } : {}) };
  const error = outcome.error ?? { code: "failed", message: `"${titleOf(stepId)}" did not complete.` };
  return { ok: false, code: error.code, message: error.message, status: outcome.status, error };
}

/** The error a step carries after it went `stallMs` without progress and was cut off. */
export function stalledError(stallMs: number): StepError {
  return {
    code: INTERRUPTED.code,
    message: `This step made no progress for ${formatSeconds(stallMs)} (a call to Azure or to the portal's database stopped answering), so the portal stopped it. Resume to continue: it re-checks what already exists before changing anything.`,
  };
}

interface AttemptInput {
  stepModule: StepModule;
  ctx: ReturnType<typeof buildStepContext>["ctx"];
  observer: ContextObserver;
  heartbeat: Heartbeat;
  budget: RetryBudget;
  policy: EnginePolicy;
  sleep: (ms: number) => Promise<void>;
  onWait: (label: string) => Promise<boolean>;
}

// Each cycle starts with a fresh read, so a retry after a partial apply (or after another admin's change) sees
// what exists and writes only what is still missing.
async function attemptUntilSettled(a: AttemptInput): Promise<AttemptOutcome> {
  const { stepModule, observer, heartbeat, policy, budget } = a;
  const action = `complete "${titleOf(stepModule.id)}"`;
  let verifyFailures = 0;
  let writesAtLastFailure = 0;

  // A retry wait is the engine's own doing, not a stall: it counts as progress at both ends.
  const wait = async (ms: number, label: string): Promise<boolean> => {
    heartbeat.touch();
    if (!(await a.onWait(label))) return false;
    await a.sleep(ms);
    heartbeat.touch();
    return !heartbeat.lost && !heartbeat.stalled;
  };
  // In-step replication waits share the execution's replication budget with the step-level retries below.
  const ctx: StepContext = {
    ...a.ctx,
    async waitForReplication(retry) {
      const delay = budget.replicationDelay(retry);
      if (delay !== null) noteRetry("replication", delay);
      return delay !== null && wait(delay, retryLabel({ kind: "replication", error: INTERRUPTED }, delay));
    },
  };

  for (;;) {
    observer.tokenFailure = undefined;
    try {
      const live = await stepModule.read(ctx);
      const out = await stepModule.apply(ctx, live);
      const verdict = await stepModule.verify(ctx, out);
      if (verdict.ok) {
        // Done with exceptions: what the step could not do travels beside its outputs; the run still goes on.
        const attention = verdict.attention ?? [];
        return { kind: "released", outcome: { status: "done", outputs: toJson(out), ...(attention.length ? { attention } : {}) } };
      }
      verifyFailures += 1;
      if (verifyFailures >= policy.verifyAttempts) {
        return failed({ code: "verify_failed", message: `The changes were made, but checking them afterwards failed: ${verdict.reason}` });
      }
      // Reads can lag writes for a while (ARM caches, Entra replication): look again before calling it a failure.
      const delay = backoffMs(verifyFailures, policy.replicationBaseDelayMs, policy.replicationMaxDelayMs);
      noteRetry("verify", delay);
      if (!(await wait(delay, `Checking the result again in ${seconds(delay)}`))) return { kind: "lease_lost" };
    } catch (error) {
      if (heartbeat.stalled) return { kind: "stalled" };
      if (heartbeat.lost) return { kind: "lease_lost" };
      // A long step (many clusters) that got further before failing again starts a fresh retry allowance.
      if (observer.writesSucceeded > writesAtLastFailure) {
        writesAtLastFailure = observer.writesSucceeded;
        budget.reset();
      }
      const createdAt = observer.lastCreateAt;
      const c = classifyFailure(error, {
        action,
        ...(observer.tokenFailure ? { tokenFailure: observer.tokenFailure } : {}),
        createdRecently: createdAt !== undefined && Date.now() - createdAt < policy.replicationBudgetMs,
      });
      if (c.kind === "lease_lost") return c;
      // Nothing is wrong with the step: it waits, untouched, for an admin with a valid sign-in to resume it.
      if (c.kind === "reauth") return { kind: "released", outcome: { status: "pending", error: c.error } };
      if (c.kind === "permanent") {
        // A step may say what it did finish before giving up (an error carrying `output`): keep it for the UI.
        const partial = (error as { output?: unknown } | null)?.output;
        return {
          kind: "released",
          outcome: { status: c.status, error: c.error, ...(partial === undefined ? {} : { outputs: toJson(partial) }) },
        };
      }
      const delay = budget.next(c);
      // The portal's database staying away hands the step back for a resume instead of failing it.
      if (delay === null)
        return c.kind === "interrupted" ? { kind: "released", outcome: { status: "pending", error: c.error } } : failed(c.error);
      noteRetry(c.kind, delay, c.error.code);
      if (!(await wait(delay, retryLabel(c, delay)))) return { kind: "lease_lost" };
    }
  }
}

/** Logs and counts an execution that took the step's lease; returns its start time. */
function stepStarted(stepId: StepId, attempt: number, takeover: boolean): number {
  if (takeover) {
    metrics().leaseTakeovers.inc({ job: "step", by: "execution" });
    log().warn({ event: "lease.takeover", job: "step" }, `step ${stepId}: took over an expired lease`);
  }
  log().info({ event: "step.start", attempt }, `step ${stepId} started`);
  return performance.now();
}

// How an execution that held the lease ended, as one word: the step's status it released, or why it released none.
function stepOutcomeOf(job: Extract<JobResult<AttemptOutcome>, { kind: "ended" }>): string {
  const { end, released } = job;
  if (end.kind === "crashed") return "interrupted";
  if (end.kind === "stalled") return "stalled";
  if (end.kind === "lease_lost" || end.value.kind !== "released" || !released) return "lease_lost";
  return end.value.outcome.status;
}

/** Logs and measures the end of an execution that held the lease. */
function stepEnded(stepId: StepId, startedAt: number, job: JobResult<AttemptOutcome>): void {
  if (job.kind === "busy") return;
  const outcome = stepOutcomeOf(job);
  const seconds = (performance.now() - startedAt) / 1000;
  metrics().stepDuration.observe({ step: stepId, outcome }, seconds);
  const error = job.end.kind === "finished" && job.end.value.kind === "released" ? job.end.value.outcome.error : undefined;
  const level = outcome === "done" || outcome === "pending" ? "info" : "warn";
  log()[level](
    { event: "step.end", outcome, durationMs: Math.round(seconds * 1000), ...(error ? { code: error.code } : {}) },
    `step ${stepId} ended: ${outcome}`,
  );
}

function failed(error: StepError): AttemptOutcome {
  return { kind: "released", outcome: { status: "failed", error } };
}

// Step outputs are stored as JSON; dates become strings, undefined becomes null.
function toJson(value: unknown): JsonValue {
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))} s`;
}

function titleOf(stepId: string): string {
  try {
    return stepById(stepId as StepId).title;
  } catch {
    return stepId;
  }
}
