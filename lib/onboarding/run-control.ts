// Reading a run for the signed-in tenant, confirming its plan and driving its steps.
import "server-only";
import { failure, type ActionResult } from "@/lib/action-result";
import { recordAuditEvent } from "@/lib/db/audit";
import { toJsonValue, type JsonValue } from "@/lib/db/json";
import { reopenCompletedRun } from "@/lib/db/run-extension";
import { confirmRunPlan, getRunForTenant, runChangeStamp, setRunStatus, type OnboardingRunWithSteps, type RunChange } from "@/lib/db/runs";
import type { SessionWithUser } from "@/lib/db/sessions";
import { runRemainingSteps } from "@/lib/engine/drive-run";
import { STEP_MODULES } from "@/lib/engine/step-modules";
import { env } from "@/lib/env";
import { maskText } from "@/lib/presenter";
import { runConfigSchema, type RunConfig } from "@/lib/steps/config";
import { ALREADY_CONFIRMED } from "./lifecycle";
import { planHash, planStoredRun, type StoredPlan } from "./plan";
import { sessionTokens, type TokenProvider } from "@/lib/auth/tokens";

export interface RunView {
  run: OnboardingRunWithSteps;
  config: RunConfig;
  plan: StoredPlan | null;
  planHash: string | null;
}

/** The run if it belongs to the signed-in admin's tenant; null otherwise (callers can't tell "missing" from "foreign"). */
export async function getRunView(session: SessionWithUser, runId: string): Promise<RunView | null> {
  const run = await getRunForTenant(runId, session.user.tenantId);
  if (!run) return null;
  const config = runConfigSchema.parse(run.config);
  const plan = (run.plan as StoredPlan | null) ?? null;
  return { run, config, plan, planHash: plan ? planHash(plan) : null };
}

/** `given` (the page's view, read once per render) when it is this run of the session's tenant; otherwise a fresh read. */
export function runViewFor(session: SessionWithUser, runId: string, given?: RunView | null): Promise<RunView | null> {
  if (given && given.run.id === runId && given.run.tenantId === session.user.tenantId) return Promise.resolve(given);
  return getRunView(session, runId);
}

/** The run page's change fingerprint and live progress for the signed-in admin's tenant (null: not theirs or unknown). */
export async function getRunChange(
  session: SessionWithUser,
  runId: string,
  options: { presenter?: boolean } = {},
): Promise<RunChange | null> {
  const change = await runChangeStamp(runId, session.user.tenantId);
  if (!change || !options.presenter) return change;
  // Progress labels may name accounts and clusters: masked like everything else the page shows in presenter mode.
  const progress = Object.fromEntries(Object.entries(change.progress).map(([step, p]) => [step, { ...p, label: maskText(p.label) }]));
  return { ...change, progress };
}

const NOT_YOURS = "This onboarding run doesn't exist or belongs to another tenant.";

/** Confirm the plan the admin saw (by hash) and start the steps in the background. */
export async function confirmAndStart(
  session: SessionWithUser,
  runId: string,
  seenPlanHash: string,
): Promise<ActionResult<{ runId: string }>> {
  const view = await getRunView(session, runId);
  if (!view) return failure(NOT_YOURS, { code: "forbidden" });
  if (view.run.status !== "planned" || !view.plan) return failure(ALREADY_CONFIRMED, { code: "conflict" });
  if (view.planHash !== seenPlanHash)
    return failure("The plan changed since you opened it. Review it again before confirming.", { code: "plan_changed" });
  if (!(await confirmRunPlan(runId, session.user.upn, { plan: view.run.plan ?? undefined }))) {
    return failure("Someone else confirmed or changed this plan first. Reload to see it.", { code: "conflict" });
  }
  if (!(await setRunStatus(runId, "running", { from: ["planned"] }))) {
    return failure("This run changed while you confirmed it. Reload it to see where it stands.", { code: "conflict" });
  }
  await auditRunDecision(session, "run.plan_confirmed", runId);
  startInBackground(session, runId);
  return { ok: true, data: { runId } };
}

/**
 * Continue a run (after a failure, an interruption, or by a second admin): the drive runs every failed or unfinished
 * step whose needs are done, side by side, then what waits for them.
 */
export async function continueRun(session: SessionWithUser, runId: string): Promise<ActionResult<{ runId: string }>> {
  const view = await getRunView(session, runId);
  if (!view) return failure(NOT_YOURS, { code: "forbidden" });
  if (view.run.status === "failed" && !(await setRunStatus(runId, "running", { from: ["failed"] }))) {
    // Conditional: another admin's Retry that got there first is fine (the steps' leases run each once); a removal that
    // started since the read wins, and this Retry is refused.
    if ((await getRunView(session, runId))?.run.status !== "running")
      return failure("This run changed meanwhile. Reload it to see where it stands.", { code: "conflict" });
  } else if (view.run.status !== "failed" && view.run.status !== "running")
    return failure("Only a started run can be continued.", { code: "conflict" });
  await auditRunDecision(session, "run.continued", runId);
  startInBackground(session, runId);
  return { ok: true, data: { runId } };
}

/** Re-read Azure and recompute the plan of a run that is not confirmed yet. */
export async function replan(session: SessionWithUser, runId: string): Promise<ActionResult<{ runId: string }>> {
  const view = await getRunView(session, runId);
  if (!view) return failure(NOT_YOURS, { code: "forbidden" });
  if (view.run.status !== "planned" && view.run.status !== "draft")
    return failure("The plan of a started run can't change.", { code: "conflict" });
  const planned = await planStoredRun(runId, session.user.tenantId, session.user.upn, view.config, sessionTokens(session));
  return planned.ok ? { ok: true, data: { runId } } : planned;
}

/**
 * Reopen a completed run with a wider configuration (coverage extension) and plan it; the admin then reviews and
 * confirms on the plan page as for a new run. `storedConfig` is the config the extension was computed from: if the
 * run changed meanwhile (another admin extended it), nothing happens.
 */
export async function extendCompletedRun(
  session: SessionWithUser,
  runId: string,
  storedConfig: JsonValue,
  config: RunConfig,
  detail: Record<string, JsonValue>,
  tokens: TokenProvider = sessionTokens(session),
): Promise<ActionResult<{ runId: string }>> {
  if (!(await reopenCompletedRun(runId, session.user.tenantId, storedConfig, toJsonValue(config)))) {
    return failure("Someone else extended or changed this run meanwhile. Reload it and check coverage again.", { code: "conflict" });
  }
  await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: "run.extended",
    target: runId,
    runId,
    outcome: "success",
    detail,
  });
  const planned = await planStoredRun(runId, session.user.tenantId, session.user.upn, config, tokens);
  return planned.ok ? { ok: true, data: { runId } } : planned;
}

function auditRunDecision(session: SessionWithUser, action: string, runId: string) {
  return recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action,
    target: runId,
    runId,
    outcome: "success",
  });
}

// The steps keep running after the response is sent (and if the browser closes); progress is in the database.
function startInBackground(session: SessionWithUser, runId: string): void {
  void runRemainingSteps({
    runId,
    tenantId: session.user.tenantId,
    actor: { userId: session.user.id, upn: session.user.upn },
    tokens: sessionTokens(session),
    modules: STEP_MODULES,
    policy: { leaseTtlMs: env().STEP_LEASE_TTL_SECONDS * 1000 },
  });
}
