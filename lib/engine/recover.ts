// Recovers after a crash: steps whose holder died become pending with an "interrupted" error, for a resume.
import "server-only";
import { acquireStepLease, listExpiredRunningSteps, recordAuditEvent, releaseStepLease } from "@/lib/db";
import { INTERRUPTED } from "./execute-step";
import { newLeaseOwner } from "./ids";
import { DEFAULT_POLICY } from "./policy";

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
