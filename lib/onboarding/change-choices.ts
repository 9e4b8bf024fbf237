// Changing the choices a deny policy named (tags, network restriction) on a run stopped at the storage step, then retrying it.
import "server-only";
import { z } from "zod";
import { failure, type ActionResult } from "@/lib/action-result";
import { recordAuditEvent } from "@/lib/db/audit";
import { toJsonValue } from "@/lib/db/json";
import { updateFailedRunConfig } from "@/lib/db/run-choices";
import type { OnboardingRunWithSteps } from "@/lib/db/runs";
import type { SessionWithUser } from "@/lib/db/sessions";
import type { StepRun } from "@/lib/db/step-runs";
import { runConfigSchema, runOptionsSchema } from "@/lib/steps/config";
import { continueRun, type RunView } from "./run-control";
import { runIdSchema } from "./schemas";

/** The step whose choices can change: it creates the resource group and storage accounts the policies judge. */
export const CHOICES_STEP = "storage";

/** Input of the change: the whole set of tags (an empty set removes them) and the network restriction. */
export const changeChoicesSchema = z.object({
  runId: runIdSchema,
  restrictNetwork: z.boolean(),
  tags: runOptionsSchema.shape.tags.unwrap(),
});
export type ChangeChoicesInput = z.infer<typeof changeChoicesSchema>;

/** The storage step of a failed run when an Azure Policy stopped it; null otherwise (nothing to change here). */
export function policyStoppedStep(run: Pick<OnboardingRunWithSteps, "status" | "steps">): StepRun | null {
  if (run.status !== "failed") return null;
  const step = run.steps.find((s) => s.stepId === CHOICES_STEP);
  return step && step.status === "failed" && step.error?.code === "policy_denied" ? step : null;
}

/** Store the new choices (only while the step is still failed) and retry the run from that step. */
export async function changeChoicesAndRetry(
  session: SessionWithUser,
  view: RunView,
  input: ChangeChoicesInput,
): Promise<ActionResult<{ runId: string }>> {
  const { run, config } = view;
  if (!policyStoppedStep(run)) {
    return failure(
      "Only a run an Azure Policy stopped at the storage step can change these choices. Reload the page to see where it stands.",
      { code: "conflict" },
    );
  }
  const { tags: _previous, ...options } = config.options;
  const next = runConfigSchema.safeParse({
    ...config,
    options: { ...options, restrictNetwork: input.restrictNetwork, ...(Object.keys(input.tags).length > 0 ? { tags: input.tags } : {}) },
  });
  if (!next.success) {
    return failure(next.error.issues[0]?.message ?? "Check your choices.", {
      code: "invalid",
      fieldErrors: Object.fromEntries(next.error.issues.map((i) => [i.path.slice(1).join("."), [i.message]])),
    });
  }
  if (!(await updateFailedRunConfig(run.id, session.user.tenantId, CHOICES_STEP, run.config, toJsonValue(next.data)))) {
    return failure("This run changed meanwhile (someone retried it or changed its choices). Reload it to see where it stands.", {
      code: "conflict",
    });
  }
  await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: "run.choices_changed",
    target: run.id,
    runId: run.id,
    outcome: "success",
    detail: { stepId: CHOICES_STEP, restrictNetwork: input.restrictNetwork, tags: Object.keys(input.tags) },
  });
  return continueRun(session, run.id);
}

/** A tag the stopping policy asks for, with the assignment that asks. */
export interface TagHint {
  name: string;
  value?: string;
  requiredBy: string;
}

/** What the step's policy message asks that this page can change (it is worded by lib/azure/policy-denial.ts). */
export function choiceHints(message: string): { tags: TagHint[]; restrictNetwork: boolean } {
  const tags: TagHint[] = [];
  for (const m of message.matchAll(/Azure Policy assignment '([^']+)' requires the tag '([^']+)'(?: with the value '([^']*)')?/g)) {
    const [, requiredBy = "", name = "", value] = m;
    if (!tags.some((t) => t.name.toLowerCase() === name.toLowerCase()))
      tags.push({ name, requiredBy, ...(value !== undefined ? { value } : {}) });
  }
  return { tags, restrictNetwork: /turn on "Restrict network access"/.test(message) };
}
