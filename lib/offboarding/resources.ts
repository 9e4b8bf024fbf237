// Live reads of what a run created, each by the step that wrote it: every removal is verified by reading again.
import "server-only";
import { STEP_MODULES } from "@/lib/engine/step-modules";
import type { RemovalContext, Resolution, StepModule, StepRemoval } from "@/lib/steps/types";
import type { Candidate } from "./classify";

export { GroupNotEmptyError } from "@/lib/steps/storage";
export type { LiveResource, Resolution } from "@/lib/steps/types";

/** What the live reads and removals need: the steps' removal context. */
export type LiveContext = RemovalContext;

/** The removal of the step with this id; undefined for a step that leaves nothing (or an id that is no step). */
export function removalOf(stepId: string): StepRemoval | undefined {
  return (STEP_MODULES as Readonly<Record<string, StepModule>>)[stepId]?.removal;
}

/** Reads the candidate's resource in Azure, through the step that wrote it. `foreign`: it exists but is not what this run created. */
export async function resolve(c: Candidate, ctx: LiveContext): Promise<Resolution> {
  return (await removalOf(c.stepId)?.resolve(c, ctx)) ?? { state: "absent" };
}
