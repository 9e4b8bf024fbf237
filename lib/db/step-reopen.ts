// Reopening a finished step so it can run again (the Verification step is re-runnable from the run page).
import "server-only";
import { db } from "./client";

/**
 * A done, failed or needs-admin step without a lease becomes pending again (its outputs stay until the next outcome);
 * false when it is running, pending already, or doesn't exist. One conditional UPDATE: two admins can't both reopen it.
 */
export async function reopenFinishedStep(runId: string, stepId: string): Promise<boolean> {
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE "step_runs" SET "status" = 'pending', "error" = NULL, "finished_at" = NULL, "updated_at" = now()
    WHERE "run_id" = ${runId} AND "step_id" = ${stepId}
      AND "status" IN ('done', 'failed', 'needs_admin') AND "lease_owner" IS NULL`;
  return count === 1;
}
