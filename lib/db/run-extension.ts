// Reopening a completed run with a wider configuration (the coverage re-check's "extend"), atomically.
import "server-only";
import { db } from "./client";
import { jsonParam, type JsonValue } from "./json";

/**
 * Completed → draft with `config`, no plan and every step pending again (outputs, errors and attention cleared), in one
 * transaction. Only when the run is completed, belongs to `tenantId` and still has `expectedConfig`: of two admins
 * extending at once exactly one gets true, and an extension computed from a stale configuration is refused.
 */
export async function reopenCompletedRun(runId: string, tenantId: string, expectedConfig: JsonValue, config: JsonValue): Promise<boolean> {
  const prisma = await db();
  return prisma.$transaction(async (tx) => {
    const count = await tx.$executeRaw`
      UPDATE "onboarding_runs" SET
        "config" = ${jsonParam(config)}::jsonb, "plan" = NULL, "status" = 'draft',
        "plan_confirmed_at" = NULL, "plan_confirmed_by_upn" = NULL, "updated_at" = now()
      WHERE "id" = ${runId} AND "tenant_id" = ${tenantId} AND "status" = 'completed'
        AND "config" = ${jsonParam(expectedConfig)}::jsonb`;
    if (count !== 1) return false;
    await tx.$executeRaw`
      UPDATE "step_runs" SET
        "status" = 'pending', "progress" = NULL, "outputs" = NULL, "error" = NULL, "attention" = NULL,
        "lease_owner" = NULL, "lease_expires_at" = NULL, "started_at" = NULL, "finished_at" = NULL, "updated_at" = now()
      WHERE "run_id" = ${runId}`;
    return true;
  });
}
