// Executes an offboarding: under a lease, in removal order, each removal logged (intent → outcome), audited and verified.
import "server-only";
import { classifyAzureError, retryAfterOfError, toAzureError } from "@/lib/azure/errors";
import { workbenchConfig } from "@/lib/azure/workbench-client";
import { recordAuditEvent } from "@/lib/db/audit";
import {
  acquireOffboardingLease,
  OFFBOARDING_STEP_ID,
  recordOffboardingIntent,
  releaseOffboardingLease,
  renewOffboardingLease,
  setOffboardingProgress,
} from "@/lib/db/offboardings";
import { findPendingIntents, listOperations, recordOutcome } from "@/lib/db/operations";
import { deleteRunSecret } from "@/lib/db/run-secrets";
import { getRunForTenant, setRunStatus } from "@/lib/db/runs";
import { LeaseLostError } from "@/lib/db/step-runs";
import { formatSeconds, withOutboundScope } from "@/lib/azure/timeouts";
import type { Actor } from "@/lib/engine/context";
import { outputsOf } from "@/lib/engine/context";
import { startLeaseHeartbeat, unlessStalled } from "@/lib/engine/heartbeat";
import { newLeaseOwner } from "@/lib/engine/ids";
import { credentialFor, TokenUnavailableError, type TokenProvider } from "@/lib/engine/tokens";
import { env } from "@/lib/env";
import { runConfigSchema } from "@/lib/steps/config";
import type { Candidate } from "./classify";
import { planOffboarding, type OffboardingItem, type OffboardingPlan } from "./plan";
import { GroupNotEmptyError, resolve, type LiveContext } from "./resources";

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

/** Retry and lease tunables; tests shorten them. */
export interface OffboardingPolicy {
  leaseTtlMs: number;
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Reads after a removal until it reads as absent (Azure's reads may lag the delete). */
  verifyAttempts: number;
  /** No progress (an item started, an answer from Azure or Graph) for this long stops the removal; STEP_STALL_SECONDS by default. */
  stallMs?: number;
}

export const DEFAULT_OFFBOARDING_POLICY: OffboardingPolicy = {
  leaseTtlMs: 60_000,
  attempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 20_000,
  verifyAttempts: 5,
};

/** Everything an execution needs. */
export interface ExecuteOffboardingInput {
  runId: string;
  tenantId: string;
  actor: Actor;
  tokens: TokenProvider;
  policy?: Partial<OffboardingPolicy>;
  leaseOwner?: string;
}

/** What an execution did; `busy` when another execution holds the lease. */
export type ExecuteOffboardingResult =
  | { outcome: "clean" | "incomplete"; results: ItemResult[]; writes: number }
  | { outcome: "busy" }
  | { outcome: "not_found" }
  | { outcome: "signed_out"; message: string }
  | { outcome: "error"; message: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** Retries transient failures (throttling, 5xx, network) and a role still seen as assigned; rethrows the rest. */
async function withRetry<T>(policy: OffboardingPolicy, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof LeaseLostError || error instanceof TokenUnavailableError || error instanceof GroupNotEmptyError) throw error;
      const cls = classifyAzureError(error);
      // Azure may still count an assignment deleted a moment ago against the role (replication).
      const inUse = toAzureError(error, { action: "remove" }).code === "role_definition_in_use";
      if ((cls === "permanent" && !inUse) || attempt >= policy.attempts) throw error;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.min(policy.maxDelayMs, retryAfterOfError(error) ?? backoff));
    }
  }
}

/** Plans afresh and removes everything the plan removes; re-runnable until the plan has nothing left to remove. */
export async function executeOffboarding(input: ExecuteOffboardingInput): Promise<ExecuteOffboardingResult> {
  const policy = { ...DEFAULT_OFFBOARDING_POLICY, ...input.policy };
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
  if (!(await acquireOffboardingLease(runId, owner, actor.upn, policy.leaseTtlMs))) return { outcome: "busy" };
  const stallMs = policy.stallMs ?? env().STEP_STALL_SECONDS * 1000;
  const heartbeat = startLeaseHeartbeat(() => renewOffboardingLease(runId, owner, policy.leaseTtlMs), policy.leaseTtlMs, { stallMs });
  // Calls made under it are cut off by a stall, and their answers count as progress (a resource group delete polls for minutes).
  const outbound = <T>(work: () => Promise<T>): Promise<T> =>
    unlessStalled(heartbeat, withOutboundScope({ signal: heartbeat.signal, onAnswer: () => heartbeat.touch() }, work));

  const results: ItemResult[] = [];
  let writes = 0;
  const audit = (outcome: "success" | "failure" | "denied", target: string, detail: Record<string, string | number | null>) =>
    recordAuditEvent({
      tenantId,
      runId,
      actorUserId: actor.userId,
      actorUpn: actor.upn,
      action: "azure.write",
      target,
      outcome,
      detail: { runId, stepId: OFFBOARDING_STEP_ID, kind: "delete", ...detail },
    });

  try {
    const planned = await outbound(() => withRetry(policy, async () => planOffboarding(ctx, await listOperations(runId))));
    await settleInterruptedRemovals(runId, planned.plan);
    const todo = planned.plan.items.filter((i) => i.action === "remove");
    // Items removed with the app registration are checked right after it.
    const deferred = todo.filter((i) => i.removedWith === "application");
    const sequence = todo
      .filter((i) => i.removedWith === undefined)
      .flatMap((i) => (i.category === "application" ? [i, ...deferred] : [i]));
    let done = 0;
    for (const item of sequence) {
      if (heartbeat.lost || heartbeat.stalled) throw new LeaseLostError(runId, OFFBOARDING_STEP_ID);
      heartbeat.touch();
      await setOffboardingProgress(runId, owner, {
        done,
        total: sequence.length,
        label: `Removing ${item.resourceType.toLowerCase()} ${item.resource} (${done + 1} of ${sequence.length})`,
      });
      const result = await outbound(() => removeItem(item, planned.candidates.get(item.key)));
      results.push(result);
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
    if (
      results.some(
        (r) => r.outcome === "removed" && (r.key.startsWith("app-registration.app:") || r.key.startsWith("app-registration.secret:")),
      )
    ) {
      await deleteRunSecret(runId, "client_secret");
    }
    const status = results.some((r) => r.outcome === "failed") ? "incomplete" : "clean";
    await releaseOffboardingLease(runId, owner, { status, result: { items: results.map((r) => ({ ...r })) } as never });
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
  } catch (error) {
    const signIn = tokenFailure ?? (error instanceof TokenUnavailableError ? error : undefined);
    const message = heartbeat.stalled
      ? `The removal made no progress for ${formatSeconds(stallMs)} (Azure, Microsoft Graph or the portal's database stopped answering), so the portal stopped it. Run the removal again to continue.`
      : signIn
        ? signIn.message
        : error instanceof LeaseLostError
          ? "Another execution took over the removal."
          : toAzureError(error, { action: "plan the removal" }).message;
    results.push({ key: "offboarding", resourceType: "Removal", resource: "", outcome: "failed", message });
    await releaseOffboardingLease(runId, owner, { status: "incomplete", result: { items: results.map((r) => ({ ...r })) } as never });
    if (signIn) return { outcome: "signed_out", message };
    return { outcome: "incomplete", results, writes };
  } finally {
    await heartbeat.stop();
  }

  async function removeItem(item: OffboardingItem, candidate: Candidate | undefined): Promise<ItemResult> {
    const base = { key: item.key, resourceType: item.resourceType, resource: item.resource };
    if (!candidate) return { ...base, outcome: "failed", message: "It is no longer in this run's log." };
    // Read again right before writing: another tab, an admin or Azure itself may have removed it meanwhile.
    const now = await withRetry(policy, () => resolve(candidate, live));
    if (now.state === "absent")
      return {
        ...base,
        outcome: item.removedWith ? "removed" : "gone",
        message: item.removedWith ? "Removed with the app registration." : "Already gone.",
      };
    if (now.state === "foreign") return { ...base, outcome: "kept", message: now.reason };
    const target = `${item.resourceType} ${item.resource}`;
    const intentId = await recordOffboardingIntent({ runId, owner, key: `offboarding.delete:${item.key}`, target, actorUpn: actor.upn });
    try {
      await withRetry(policy, () => now.live.remove());
    } catch (error) {
      if (error instanceof LeaseLostError || error instanceof TokenUnavailableError) throw error;
      if (error instanceof GroupNotEmptyError) {
        await recordOutcome(intentId, { status: "failed", errorCode: "not_empty", errorMessage: error.message });
        return { ...base, outcome: "kept", message: error.message };
      }
      if (tokenFailure) throw tokenFailure;
      const azure = toAzureError(error, { action: `remove ${target}` });
      await recordOutcome(intentId, {
        status: "failed",
        errorCode: azure.code,
        errorMessage: azure.message,
        requestId: azure.requestId ?? null,
      });
      await audit(azure.code === "forbidden" ? "denied" : "failure", target, {
        key: item.key,
        errorCode: azure.code,
        requestId: azure.requestId ?? null,
      });
      return { ...base, outcome: "failed", message: azure.message };
    }
    writes += 1;
    await recordOutcome(intentId, { status: "succeeded", resourceId: item.key });
    await audit("success", target, { key: item.key });
    for (let i = 1; i <= policy.verifyAttempts; i++) {
      if (!(await withRetry(policy, () => now.live.exists()))) return { ...base, outcome: "removed" };
      if (i < policy.verifyAttempts) await sleep(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (i - 1)));
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
    const key = op.key.replace(/^offboarding\.delete:/, "");
    const stillThere = plan.items.some((i) => i.key === key && i.action === "remove");
    await recordOutcome(
      op.id,
      stillThere
        ? { status: "failed", errorCode: "interrupted", errorMessage: "The removal was interrupted; it is retried." }
        : { status: "succeeded", resourceId: key },
    );
  }
}
