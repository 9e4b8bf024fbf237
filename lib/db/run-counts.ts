// Counts for the metrics scrape: runs by status, in one grouped query.
import "server-only";
import { db } from "./client";
import { RUN_STATUSES, type RunStatus } from "./runs";

/** How many runs the database holds in each status (every status present, 0 when none). */
export async function countRunsByStatus(): Promise<Record<RunStatus, number>> {
  const prisma = await db();
  const rows = await prisma.onboardingRun.groupBy({ by: ["status"], _count: { _all: true } });
  const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
  for (const row of rows) counts[row.status as RunStatus] = row._count._all;
  return counts;
}
