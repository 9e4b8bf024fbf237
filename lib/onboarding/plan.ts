// The plan of a run: computed from live reads (no writes), stored with the run, confirmed by hash.
import { createHash } from "node:crypto";
import { failure, type ActionResult } from "@/lib/action-result";
import { toJsonValue } from "@/lib/db/json";
import { setRunPlan } from "@/lib/db/runs";
import { planRun } from "@/lib/engine/run-run";
import { STEP_MODULES } from "@/lib/engine/step-modules";
import type { RunConfig } from "@/lib/steps/config";
import type { StepId } from "@/lib/steps/registry";
import type { PlannedChange } from "@/lib/steps/types";
import type { TokenProvider } from "./tokens";

/** What the plan page shows and the admin confirms. */
export interface StoredPlan {
  computedAt: string;
  steps: { stepId: StepId; changes: PlannedChange[]; error?: { code: string; message: string } }[];
}

/** Stable hash of a plan: the confirm button carries it, so a plan changed by someone else can't be confirmed blind. */
export function planHash(plan: unknown): string {
  return createHash("sha256").update(JSON.stringify(plan)).digest("hex");
}

/** Compute and store the plan of a run. */
export async function planStoredRun(
  runId: string,
  tenantId: string,
  actorUpn: string,
  config: RunConfig,
  tokens: TokenProvider,
): Promise<ActionResult<StoredPlan>> {
  // The run id lets steps plan the same names their apply will use (e.g. the run's client secret).
  const planned = await planRun({ config, tenantId, tokens, modules: STEP_MODULES, runId, actorUpn });
  const plan: StoredPlan = {
    computedAt: new Date().toISOString(),
    steps: planned.map((s) => ({ stepId: s.stepId, changes: s.changes, ...(s.error ? { error: { code: s.error.code, message: s.error.message } } : {}) })),
  };
  if (!(await setRunPlan(runId, toJsonValue(plan)))) return failure("This run can no longer be re-planned.", { code: "conflict" });
  return { ok: true, data: plan };
}
