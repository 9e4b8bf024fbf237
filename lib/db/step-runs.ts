// Provisioning steps of a run: their states, outcomes and attention lists. Their leases (one execution at a time per
// step) are lib/db/leases.ts's, of kind "step"; the functions here name the step's lease and its outcome columns.
import "server-only";
import { z } from "zod";
import { Prisma } from "./generated/client";
import { db } from "./client";
import { jsonParam, type JsonValue } from "./json";
import { acquireLease, releaseLease, renewLease, setLeaseProgress, stepLease } from "./leases";

export { LeaseLostError } from "./leases";

export const STEP_STATUSES = ["pending", "running", "done", "failed", "needs_admin"] as const;
/** Where a step stands: running means a lease holder is (or was, until its lease expired) working on it. */
export type StepStatus = (typeof STEP_STATUSES)[number];

export const STEP_OUTCOMES = ["done", "failed", "needs_admin", "pending"] as const;
/** How a lease holder leaves a step: finished (possibly with exceptions), failed, waiting for an admin with more rights, or handed back untouched. */
export type StepOutcomeStatus = (typeof STEP_OUTCOMES)[number];

/** Progress of a running step, for the UI: "3 of 7 clusters — Enabling diagnostic settings on aks-prod". */
export interface StepProgress {
  done: number;
  total: number;
  label: string;
}

/** Why a step failed or needs an admin; safe to show (never a raw Azure response). */
export interface StepError {
  code: string;
  message: string;
  /** e.g. "Owner or User Access Administrator on Production". */
  requiredRole?: string;
  /** Who could complete the step instead, e.g. "an Owner of the subscription". */
  whoCanAct?: string;
}

// What a step that finished could not do, and why ("done with exceptions"); lib/steps/types.ts AttentionItem documents it.
const stepAttentionSchema = z.array(
  z.object({
    kind: z.literal("cluster"),
    subject: z.string(),
    resourceId: z.string(),
    code: z.string(),
    reason: z.string(),
    action: z.string(),
  }),
);

/** One thing a finished step could not do, in our words (safe to show): who it concerns, why, and what to do. */
export type StepAttention = z.infer<typeof stepAttentionSchema>[number];

/** The stored attention list, read defensively: anything not of our shape counts as none. */
export function parseStepAttention(value: unknown): StepAttention[] {
  const parsed = stepAttentionSchema.safeParse(value);
  return parsed.success ? parsed.data : [];
}

/** One step of a run. startedAt is the first attempt's start; finishedAt the last attempt's end (null while running). */
export interface StepRun {
  id: string;
  runId: string;
  stepId: string;
  position: number;
  status: StepStatus;
  progress: StepProgress | null;
  outputs: JsonValue | null;
  error: StepError | null;
  /** Done with exceptions: what the step could not do. Absent when it did everything. */
  attention?: StepAttention[];
  attempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** A step whose holder stopped renewing (crashed server, closed tab), with its run's tenant to resume it. */
export interface ExpiredStep extends StepRun {
  tenantId: string;
}

/** How releaseStepLease leaves the step. outputs: omitted keeps the stored ones. error and attention: omitted clears them. */
export interface StepOutcome {
  status: StepOutcomeStatus;
  outputs?: JsonValue;
  error?: StepError;
  attention?: StepAttention[];
}

type StepRunRow = Omit<StepRun, "progress" | "outputs" | "error" | "attention"> & {
  progress: Prisma.JsonValue;
  outputs: Prisma.JsonValue;
  error: Prisma.JsonValue;
  attention: Prisma.JsonValue;
};

/** Row → domain StepRun (lib/db internal). */
export function toStepRun(row: StepRunRow): StepRun {
  const attention = parseStepAttention(row.attention);
  return {
    id: row.id,
    runId: row.runId,
    stepId: row.stepId,
    position: row.position,
    status: row.status,
    progress: row.progress as StepProgress | null,
    outputs: row.outputs as JsonValue | null,
    error: row.error as StepError | null,
    ...(attention.length ? { attention } : {}),
    attempts: row.attempts,
    leaseOwner: row.leaseOwner,
    leaseExpiresAt: row.leaseExpiresAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Takes the step's lease for `owner` if it is free, expired, or already owner's; returns whether it did.
 * On success the step is running, attempts is incremented, startedAt is set if it was null and finishedAt cleared.
 * Refused for a done step and unless the run is running (so a cancelled or unconfirmed run starts nothing).
 */
export function acquireStepLease(runId: string, stepId: string, owner: string, ttlMs: number): Promise<boolean> {
  return acquireLease(stepLease(runId, stepId), owner, ttlMs);
}

/** Extends owner's lease to now + ttlMs; false when the lease was lost (taken over, released): then stop working. */
export function renewStepLease(runId: string, stepId: string, owner: string, ttlMs: number): Promise<boolean> {
  return renewLease(stepLease(runId, stepId), owner, ttlMs);
}

/**
 * Ends owner's lease with an outcome; false (and no change) when the lease was lost.
 * finishedAt is set unless the outcome is pending (handed back to run again later).
 */
export async function releaseStepLease(runId: string, stepId: string, owner: string, outcome: StepOutcome): Promise<boolean> {
  if (!(STEP_OUTCOMES as readonly string[]).includes(outcome.status)) {
    throw new TypeError(`unknown step outcome ${JSON.stringify(outcome.status)}`);
  }
  const keepOutputs = outcome.outputs === undefined;
  const attention = outcome.attention?.length ? (outcome.attention as unknown as JsonValue) : undefined;
  return releaseLease(stepLease(runId, stepId), owner, outcome.status, [
    Prisma.sql`"outputs" = CASE WHEN ${keepOutputs}::boolean THEN t."outputs" ELSE ${jsonParam(outcome.outputs)}::jsonb END`,
    Prisma.sql`"error" = ${jsonParam(outcome.error as JsonValue | undefined)}::jsonb`,
    Prisma.sql`"attention" = ${jsonParam(attention)}::jsonb`,
    Prisma.sql`"finished_at" = CASE WHEN ${outcome.status}::text = 'pending' THEN NULL ELSE now() END`,
  ]);
}

/** Stores the running step's progress; false (and no change) unless owner still holds the lease. */
export function setStepProgress(runId: string, stepId: string, owner: string, progress: StepProgress): Promise<boolean> {
  return setLeaseProgress(stepLease(runId, stepId), owner, progress);
}

/**
 * Running steps of running runs whose lease has expired (database clock), oldest expiry first: work interrupted by
 * a crash or a closed browser. A hint for resuming; acquireStepLease decides who actually takes a step over.
 * Steps of a run that is no longer running are left out: they cannot be acquired, so listing them would only
 * make a resume loop spin (a crashed step of a cancelled run keeps status running with an expired lease).
 */
export async function listExpiredRunningSteps(options: { limit?: number } = {}): Promise<ExpiredStep[]> {
  const prisma = await db();
  const limit = Math.max(0, Math.min(options.limit ?? 100, 1000));
  const expired = await prisma.$queryRaw<{ id: string }[]>`
    SELECT s."id"::text AS "id" FROM "step_runs" AS s JOIN "onboarding_runs" AS r ON r."id" = s."run_id"
    WHERE s."status" = 'running' AND s."lease_expires_at" <= now() AND r."status" = 'running'
    ORDER BY s."lease_expires_at" LIMIT ${limit}`;
  if (expired.length === 0) return [];
  const rows = await prisma.stepRun.findMany({
    where: { id: { in: expired.map((e) => e.id) } },
    include: { run: { select: { tenantId: true } } },
    orderBy: [{ leaseExpiresAt: "asc" }, { id: "asc" }],
  });
  return rows.map(({ run, ...row }) => ({ ...toStepRun(row), tenantId: run.tenantId }));
}

/** The attention lists of the given runs' steps, by run id (runs whose steps did everything are absent). */
export async function listRunsAttention(runIds: readonly string[]): Promise<Map<string, StepAttention[]>> {
  const out = new Map<string, StepAttention[]>();
  if (runIds.length === 0) return out;
  const prisma = await db();
  const rows = await prisma.stepRun.findMany({
    where: { runId: { in: [...runIds] } },
    select: { runId: true, attention: true },
    orderBy: { position: "asc" },
  });
  for (const row of rows) {
    const attention = parseStepAttention(row.attention);
    if (attention.length) out.set(row.runId, [...(out.get(row.runId) ?? []), ...attention]);
  }
  return out;
}
