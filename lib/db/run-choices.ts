// Changing a stopped run's choices (tags, network restriction) before its failed step is retried, atomically.
import "server-only";
import { db } from "./client";
import { jsonParam, type JsonValue } from "./json";

/**
 * Replace the run's config with `config`, only while the run is failed, belongs to `tenantId`, still has `expectedConfig`
 * and its step `stepId` is failed with no lease: of two admins changing at once exactly one gets true, and a change
 * computed from a stale configuration, or after a Retry or a removal started, is refused.
 */
export async function updateFailedRunConfig(
  runId: string,
  tenantId: string,
  stepId: string,
  expectedConfig: JsonValue,
  config: JsonValue,
): Promise<boolean> {
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE "onboarding_runs" SET "config" = ${jsonParam(config)}::jsonb, "updated_at" = now()
    WHERE "id" = ${runId} AND "tenant_id" = ${tenantId} AND "status" = 'failed'
      AND "config" = ${jsonParam(expectedConfig)}::jsonb
      AND EXISTS (
        SELECT 1 FROM "step_runs" s
        WHERE s."run_id" = ${runId} AND s."step_id" = ${stepId} AND s."status" = 'failed' AND s."lease_owner" IS NULL)`;
  return count === 1;
}
