// Offboarding for the signed-in admin: the run's removal plan and state (tenant-authorized), and starting a removal.
import "server-only";
import { failure, type ActionResult } from "@/lib/action-result";
import { AzureOperationError } from "@/lib/azure/errors";
import { recordAuditEvent } from "@/lib/db/audit";
import { acquireOffboardingLease, getOffboarding, type Offboarding } from "@/lib/db/offboardings";
import { listOperations } from "@/lib/db/operations";
import { beginRunOffboarding, getRunForTenant, listRunsForTenant, type OnboardingRun, type OnboardingRunWithSteps } from "@/lib/db/runs";
import type { SessionWithUser } from "@/lib/db/sessions";
import { newLeaseOwner } from "@/lib/engine/ids";
import { sessionTokens, TokenUnavailableError } from "@/lib/auth/tokens";
import { env } from "@/lib/env";
import { runConfigSchema, type RunConfig } from "@/lib/steps/config";
import { executeOffboarding, liveContextFor, type ItemResult } from "./execute";
import { planOffboarding, type OffboardingPlan } from "./plan";

/** Run statuses whose resources may be removed: the run has stopped writing (offboarding: an incomplete removal, re-run). */
export const OFFBOARDABLE_RUN_STATUSES = ["completed", "failed", "cancelled", "offboarding"] as const;

/** What the offboarding page shows. */
export interface OffboardingView {
  run: OnboardingRunWithSteps;
  config: RunConfig;
  record: Offboarding | null;
  /** An execution holds a live lease: show progress, not the plan. */
  running: boolean;
  /** The live plan, unless running or it could not be read. */
  plan: OffboardingPlan | null;
  planError: string | null;
  /** The last execution's per-item result. */
  lastResult: ItemResult[] | null;
  /**
   * Other runs of the tenant that may rely on the same objects: names are deterministic per tenant (app, custom role,
   * role assignments, a region's storage account), so a later run adopts what an earlier one created.
   */
  otherActiveRuns: Pick<OnboardingRun, "id" | "createdAt" | "createdByUpn" | "status">[];
}

const NOT_YOURS = "This onboarding run doesn't exist or belongs to another tenant.";

function isRunning(record: Offboarding | null, now = Date.now()): boolean {
  return record?.status === "running" && record.leaseExpiresAt !== null && record.leaseExpiresAt.getTime() > now;
}

function resultItems(record: Offboarding | null): ItemResult[] | null {
  const items = (record?.result as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? (items as ItemResult[]) : null;
}

async function livePlan(session: SessionWithUser, runId: string): Promise<{ plan: OffboardingPlan } | { error: string; code: string }> {
  let signIn: TokenUnavailableError | undefined;
  try {
    const ctx = await liveContextFor(runId, session.user.tenantId, sessionTokens(session), (e) => {
      signIn = e;
    });
    if (!ctx) return { error: NOT_YOURS, code: "forbidden" };
    return { plan: (await planOffboarding(ctx, await listOperations(runId))).plan };
  } catch (error) {
    if (signIn) return { error: signIn.message, code: signIn.code };
    if (error instanceof TokenUnavailableError) return { error: error.message, code: error.code };
    if (error instanceof AzureOperationError) return { error: error.message, code: error.code };
    throw error;
  }
}

async function otherActiveRuns(run: OnboardingRunWithSteps): Promise<OffboardingView["otherActiveRuns"]> {
  const others = (await listRunsForTenant(run.tenantId, { limit: 100 })).filter(
    (r) => r.id !== run.id && ["running", "completed", "failed"].includes(r.status),
  );
  const records = await Promise.all(others.map((r) => getOffboarding(r.id)));
  return others
    .filter((_, i) => records[i]?.status !== "clean")
    .map(({ id, createdAt, createdByUpn, status }) => ({ id, createdAt, createdByUpn, status }));
}

/** The run's removal state and live plan, if the run belongs to the signed-in admin's tenant; null otherwise. */
export async function getOffboardingView(session: SessionWithUser, runId: string): Promise<OffboardingView | null> {
  const run = await getRunForTenant(runId, session.user.tenantId);
  if (!run) return null;
  const config = runConfigSchema.parse(run.config);
  const record = await getOffboarding(runId);
  const running = isRunning(record);
  const base = { run, config, record, running, lastResult: resultItems(record), otherActiveRuns: await otherActiveRuns(run) };
  // An offboarded run still shows its (empty) plan: what is left, read live.
  if (running || !([...OFFBOARDABLE_RUN_STATUSES, "offboarded"] as readonly string[]).includes(run.status))
    return { ...base, plan: null, planError: null };
  const planned = await livePlan(session, runId);
  return "plan" in planned ? { ...base, plan: planned.plan, planError: null } : { ...base, plan: null, planError: planned.error };
}

/** Confirm the removal plan the admin saw (by hash) and start removing in the background, under the offboarding lease. */
export async function startOffboarding(
  session: SessionWithUser,
  runId: string,
  seenPlanHash: string,
): Promise<ActionResult<{ runId: string }>> {
  const run = await getRunForTenant(runId, session.user.tenantId);
  if (!run) return failure(NOT_YOURS, { code: "forbidden" });
  if (!(OFFBOARDABLE_RUN_STATUSES as readonly string[]).includes(run.status)) {
    return failure("Only a finished or stopped run can be removed. Wait for the run to stop first.", { code: "conflict" });
  }
  if (isRunning(await getOffboarding(runId)))
    return failure("Someone is already removing what this run created. Follow the progress on this page.", { code: "conflict" });
  const planned = await livePlan(session, runId);
  if ("error" in planned) return failure(planned.error, { code: planned.code });
  if (planned.plan.hash !== seenPlanHash)
    return failure("What is left to remove changed since you opened this page. Review it again before confirming.", {
      code: "plan_changed",
    });
  if (planned.plan.removeCount === 0) return failure("Nothing left to remove.", { code: "conflict" });
  // The run leaves provisioning for good here: Retry, rotation and extension refuse an offboarding run.
  if (!(await beginRunOffboarding(runId, OFFBOARDABLE_RUN_STATUSES))) {
    return failure("The run is working (a step or a secret rotation is running). Wait for it to stop, then remove.", { code: "conflict" });
  }

  const owner = newLeaseOwner();
  const ttlMs = env().STEP_LEASE_TTL_SECONDS * 1000;
  if (!(await acquireOffboardingLease(runId, owner, session.user.upn, ttlMs))) {
    return failure("Someone is already removing what this run created. Follow the progress on this page.", { code: "conflict" });
  }
  await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: "run.offboarding_confirmed",
    target: runId,
    runId,
    outcome: "success",
    detail: { runId, remove: planned.plan.removeCount, planHash: planned.plan.hash },
  });
  // Keeps running after the response (and if the browser closes); progress and result are in the database.
  void executeOffboarding({
    runId,
    tenantId: session.user.tenantId,
    actor: { userId: session.user.id, upn: session.user.upn },
    tokens: sessionTokens(session),
    leaseOwner: owner,
    policy: { leaseTtlMs: ttlMs },
  });
  return { ok: true, data: { runId } };
}
