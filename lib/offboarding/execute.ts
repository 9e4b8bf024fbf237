// Executes an offboarding: under its lease (the engine's job runner), in removal order, each removal through the
// engine's write-ahead entry (intent → outcome, audited) and verified.
import "server-only";
import { toAzureError } from "@/lib/azure/errors";
import { workbenchConfig } from "@/lib/workbench/client";
import { formatSeconds } from "@/lib/azure/timeouts";
import { recordAuditEvent } from "@/lib/db/audit";
import { acquireOffboardingLease, OFFBOARDING_STEP_ID, releaseOffboardingLease, setOffboardingProgress } from "@/lib/db/offboardings";
import { LeaseLostError } from "@/lib/db/leases";
import { findPendingIntents, listOperations, recordOutcome } from "@/lib/db/operations";
import { deleteRunSecret } from "@/lib/db/run-secrets";
import { getRunForTenant, setRunStatus } from "@/lib/db/runs";
import type { Actor } from "@/lib/engine/context";
import { outputsOf } from "@/lib/engine/context";
import { newLeaseOwner } from "@/lib/engine/ids";
import { runJob, type Job, type JobEnd } from "@/lib/engine/job";
import { backoffMs, classifyFailure, DEFAULT_POLICY, sleep, withRetries, type EnginePolicy } from "@/lib/engine/policy";
import { credentialFor, TokenUnavailableError, type TokenProvider } from "@/lib/auth/tokens";
import { writeAhead, type WriteAhead } from "@/lib/engine/write-ahead";
import { env } from "@/lib/env";
import { runConfigSchema } from "@/lib/steps/config";
import { offboardingKeys, type Candidate } from "./classify";
import { planOffboarding, removalEndsClientSecret, type OffboardingItem, type OffboardingPlan } from "./plan";
import { GroupNotEmptyError, resolve, type LiveContext } from "./resources";
import { ShutdownError } from "@/lib/engine/shutdown";

/** How one item ended. */
export type ItemOutcome = "removed" | "gone" | "kept" | "failed";

/** One line of the result, safe to show. */
export interface ItemResult {
  key: string;
  resourceType: string;
  resource: string;
  outcome: ItemOutcome;
  message?: string;
}

/** The engine's policy with offboarding's defaults: reads after a removal until it reads as absent (Azure's reads may lag the delete). */
export function offboardingPolicy(given: Partial<EnginePolicy> = {}): EnginePolicy {
  return { ...DEFAULT_POLICY, verifyAttempts: 5, stallMs: env().STEP_STALL_SECONDS * 1000, ...given };
}

/** Everything an execution needs. */
export interface ExecuteOffboardingInput {
  runId: string;
  tenantId: string;
  actor: Actor;
  tokens: TokenProvider;
  policy?: Partial<EnginePolicy>;
  leaseOwner?: string;
}

/** What an execution did; `busy` when another execution holds the lease. */
export type ExecuteOffboardingResult =
  | { outcome: "clean" | "incomplete"; results: ItemResult[]; writes: number }
  | { outcome: "busy" }
  | { outcome: "not_found" }
  | { outcome: "signed_out"; message: string }
  | { outcome: "error"; message: string };

/** The live context of a run: the admin's credentials, the run's configuration and its steps' outputs. */
export async function liveContextFor(
  runId: string,
  tenantId: string,
  tokens: TokenProvider,
  onTokenFailure: (e: TokenUnavailableError) => void = () => {},
): Promise<LiveContext | null> {
  const run = await getRunForTenant(runId, tenantId);
  if (!run) return null;
  return {
    tenantId,
    config: runConfigSchema.parse(run.config),
    arm: credentialFor(tokens, "arm", onTokenFailure),
    graph: credentialFor(tokens, "graph", onTokenFailure),
    outputs: outputsOf(run.steps),
    workbench: workbenchConfig(),
  };
}

/** Plans afresh and removes everything the plan removes; re-runnable until the plan has nothing left to remove. */
export async function executeOffboarding(input: ExecuteOffboardingInput): Promise<ExecuteOffboardingResult> {
  const policy = offboardingPolicy(input.policy);
  const { runId, tenantId, actor } = input;
  const owner = input.leaseOwner ?? newLeaseOwner();
  let tokenFailure: TokenUnavailableError | undefined;
  let ctx: LiveContext | null;
  try {
    ctx = await liveContextFor(runId, tenantId, input.tokens, (e) => {
      tokenFailure = e;
    });
  } catch (error) {
    // A misconfigured Workbench (URL without API key) is reported, not thrown into a background promise.
    return { outcome: "error", message: toAzureError(error, { action: "prepare the removal" }).message };
  }
  if (!ctx) return { outcome: "not_found" };
  const live: LiveContext = ctx;
  const results: ItemResult[] = [];
  let writes = 0;
  let lastRemovalAt: number | undefined;
  const itemsOf = () => ({ items: results.map((r) => ({ ...r })) }) as never;

  const job = await runJob<"clean" | "incomplete">({
    lease: { kind: "offboarding", runId },
    owner,
    ttlMs: policy.leaseTtlMs,
    stallMs: policy.stallMs,
    acquire: () => acquireOffboardingLease(runId, owner, actor.upn, policy.leaseTtlMs),
    work: removeAll,
    release(end) {
      if (end.kind !== "finished") {
        results.push({ key: "offboarding", resourceType: "Removal", resource: "", outcome: "failed", message: failureMessage(end) });
      }
      return releaseOffboardingLease(runId, owner, { status: end.kind === "finished" ? end.value : "incomplete", result: itemsOf() });
    },
  });
  if (job.kind === "busy") return { outcome: "busy" };
  const { end } = job;
  if (end.kind !== "finished") {
    const signIn = signInFailure(end);
    if (signIn) return { outcome: "signed_out", message: signIn.message };
    return { outcome: "incomplete", results, writes };
  }
  const status = end.value;
  // Clean: the run's lifecycle ends; incomplete: it stays offboarding, and only the removal can be run again.
  if (status === "clean") await setRunStatus(runId, "offboarded", { from: ["offboarding"] });
  await recordAuditEvent({
    tenantId,
    runId,
    actorUserId: actor.userId,
    actorUpn: actor.upn,
    action: "run.offboarding_finished",
    target: runId,
    outcome: status === "clean" ? "success" : "failure",
    detail: {
      runId,
      removed: results.filter((r) => r.outcome === "removed").length,
      failed: results.filter((r) => r.outcome === "failed").length,
    },
  });
  return { outcome: status, results, writes };

  function signInFailure(end: JobEnd<unknown>): TokenUnavailableError | undefined {
    return tokenFailure ?? (end.kind === "crashed" && end.error instanceof TokenUnavailableError ? end.error : undefined);
  }

  function failureMessage(end: Exclude<JobEnd<unknown>, { kind: "finished" }>): string {
    if (end.kind === "stalled")
      return `The removal made no progress for ${formatSeconds(policy.stallMs)} (Azure, Microsoft Graph or the portal's database stopped answering), so the portal stopped it. Run the removal again to continue.`;
    const signIn = signInFailure(end);
    if (signIn) return signIn.message;
    if (end.kind === "lease_lost") return "Another execution took over the removal.";
    if (end.error instanceof ShutdownError)
      return "The portal server restarted during the removal, which stopped before its next change. Run the removal again to continue where it stopped.";
    return toAzureError(end.error, { action: "plan the removal" }).message;
  }

  async function removeAll(job: Job): Promise<"clean" | "incomplete"> {
    const { heartbeat } = job;
    const retrying = <T>(call: () => Promise<T>): Promise<T> =>
      withRetries(call, {
        policy,
        classify: (error) =>
          classifyFailure(error, {
            action: "remove",
            createdRecently: false,
            // Only while everything removed so far went: a kept or failed item may be what still uses the role.
            deletedRecently:
              lastRemovalAt !== undefined &&
              Date.now() - lastRemovalAt < policy.replicationBudgetMs &&
              !results.some((r) => r.outcome === "failed" || r.outcome === "kept"),
            ...(tokenFailure ? { tokenFailure } : {}),
            // A group that still holds resources this run didn't create is kept, not retried.
            special: (e) =>
              e instanceof GroupNotEmptyError
                ? { kind: "permanent", status: "failed", error: { code: "not_empty", message: e.message } }
                : undefined,
          }),
        // A retry wait is the engine's own doing, not a stall.
        sleep: async (ms) => {
          heartbeat.touch();
          await sleep(ms);
          heartbeat.touch();
        },
      });
    const write = writeAhead({
      lease: job.lease,
      owner,
      tenantId,
      actor,
      touch: () => heartbeat.touch(),
      live: job.live,
      failureOf: (error, op) =>
        error instanceof GroupNotEmptyError
          ? { code: "not_empty", message: error.message }
          : toAzureError(error, { action: `remove ${op.target}` }),
    });

    const planned = await retrying(async () => planOffboarding(live, await listOperations(runId)));
    await settleInterruptedRemovals(runId, planned.plan);
    const todo = planned.plan.items.filter((i) => i.action === "remove");
    // Items removed with the app registration are checked right after it.
    const deferred = todo.filter((i) => i.removedWith === "application");
    const sequence = todo
      .filter((i) => i.removedWith === undefined)
      .flatMap((i) => (i.category === "application" ? [i, ...deferred] : [i]));
    let done = 0;
    for (const item of sequence) {
      job.check();
      heartbeat.touch();
      await setOffboardingProgress(runId, owner, {
        done,
        total: sequence.length,
        label: `Removing ${item.resourceType.toLowerCase()} ${item.resource} (${done + 1} of ${sequence.length})`,
      });
      results.push(await removeItem(item, planned.candidates.get(item.key), write, retrying));
      done += 1;
    }
    for (const i of planned.plan.items.filter((x) => x.action !== "remove")) {
      results.push({
        key: i.key,
        resourceType: i.resourceType,
        resource: i.resource,
        outcome: i.action === "gone" ? "gone" : "kept",
        message: i.why,
      });
    }
    if (results.some((r) => r.outcome === "removed" && removalEndsClientSecret(planned, r.key))) {
      await deleteRunSecret(runId, "client_secret");
    }
    return results.some((r) => r.outcome === "failed") ? "incomplete" : "clean";
  }

  async function removeItem(
    item: OffboardingItem,
    candidate: Candidate | undefined,
    write: WriteAhead,
    retrying: <T>(call: () => Promise<T>) => Promise<T>,
  ): Promise<ItemResult> {
    const base = { key: item.key, resourceType: item.resourceType, resource: item.resource };
    if (!candidate) return { ...base, outcome: "failed", message: "It is no longer in this run's log." };
    // Read again right before writing: another tab, an admin or Azure itself may have removed it meanwhile.
    const now = await retrying(() => resolve(candidate, live));
    if (now.state === "absent")
      return {
        ...base,
        outcome: item.removedWith ? "removed" : "gone",
        message: item.removedWith ? "Removed with the app registration." : "Already gone.",
      };
    if (now.state === "foreign") return { ...base, outcome: "kept", message: now.reason };
    const target = `${item.resourceType} ${item.resource}`;
    try {
      await write(
        { key: offboardingKeys.delete(item.key), kind: "delete", target },
        () => retrying(() => now.live.remove()),
        () => item.key,
      );
    } catch (error) {
      if (error instanceof LeaseLostError || error instanceof TokenUnavailableError) throw error;
      if (tokenFailure) throw tokenFailure;
      if (error instanceof GroupNotEmptyError) return { ...base, outcome: "kept", message: error.message };
      return { ...base, outcome: "failed", message: toAzureError(error, { action: `remove ${target}` }).message };
    }
    writes += 1;
    lastRemovalAt = Date.now();
    for (let i = 1; i <= policy.verifyAttempts; i++) {
      if (!(await retrying(() => now.live.exists()))) return { ...base, outcome: "removed" };
      if (i < policy.verifyAttempts) await sleep(backoffMs(i, policy.replicationBaseDelayMs, policy.replicationMaxDelayMs));
    }
    return { ...base, outcome: "failed", message: `Azure accepted the removal, but ${target} still exists. Retry in a few minutes.` };
  }
}

/**
 * Intents of an earlier removal without outcome (a crash mid-removal) get one now: succeeded when the plan no longer
 * removes the item (it is gone), failed (interrupted) when it is still there; this execution removes it again.
 */
async function settleInterruptedRemovals(runId: string, plan: OffboardingPlan): Promise<void> {
  const pending = await findPendingIntents(runId, OFFBOARDING_STEP_ID);
  for (const op of pending) {
    const key = offboardingKeys.removedItemOf(op.key) ?? op.key;
    const stillThere = plan.items.some((i) => i.key === key && i.action === "remove");
    await recordOutcome(
      op.id,
      stillThere
        ? { status: "failed", errorCode: "interrupted", errorMessage: "The removal was interrupted; it is retried." }
        : { status: "succeeded", resourceId: key },
    );
  }
}
