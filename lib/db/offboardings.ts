// Offboarding of a run (removing what it created): one row per run, with a lease so one execution at a time removes.
//
// Like step leases, every lease check is one conditional SQL statement on the database clock; intents of removals go
// into the run's operation log (step "offboarding") only while the caller holds this lease.
import { db } from "./client";
import { jsonParam, type JsonValue } from "./json";
import { LeaseLostError } from "./step-runs";

/** The step id under which removals are logged in the operation log. */
export const OFFBOARDING_STEP_ID = "offboarding";

export const OFFBOARDING_STATUSES = ["running", "clean", "incomplete"] as const;
/** running: an execution holds (or held, until it expired) the lease; clean: nothing left; incomplete: something failed. */
export type OffboardingStatus = (typeof OFFBOARDING_STATUSES)[number];

/** A run's offboarding record. */
export interface Offboarding {
  runId: string;
  status: OffboardingStatus;
  progress: { done: number; total: number; label: string } | null;
  result: JsonValue | null;
  attempts: number;
  startedByUpn: string;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  startedAt: Date;
  finishedAt: Date | null;
  updatedAt: Date;
}

const TTL_MIN_MS = 1;
const TTL_MAX_MS = 24 * 60 * 60 * 1000;

function ttlParam(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs < TTL_MIN_MS || ttlMs > TTL_MAX_MS)
    throw new RangeError(`lease ttl must be between ${TTL_MIN_MS} and ${TTL_MAX_MS} ms, got ${ttlMs}`);
  return Math.round(ttlMs);
}

/** The run's offboarding record, or null when removal was never started. */
export async function getOffboarding(runId: string): Promise<Offboarding | null> {
  const prisma = await db();
  const row = await prisma.offboarding.findUnique({ where: { runId } });
  if (!row) return null;
  return {
    ...row,
    progress: row.progress as Offboarding["progress"],
    result: row.result as JsonValue | null,
  };
}

/**
 * Takes the offboarding lease for `owner` (creating the record on first use) if it is free, expired or owner's;
 * returns whether it did. On success status is running, attempts incremented, finishedAt cleared.
 */
export async function acquireOffboardingLease(runId: string, owner: string, actorUpn: string, ttlMs: number): Promise<boolean> {
  const prisma = await db();
  const ttl = ttlParam(ttlMs);
  // One statement: concurrent acquirers of an existing row queue on its lock and re-check the WHERE; concurrent
  // first inserts collide on the primary key, and the loser's DO UPDATE sees the winner's live lease.
  const rows = await prisma.$queryRaw<{ run_id: string }[]>`
    INSERT INTO "offboardings" ("run_id", "status", "attempts", "started_by_upn", "lease_owner", "lease_expires_at", "started_at", "updated_at")
    VALUES (${runId}, 'running', 1, ${actorUpn}, ${owner}, now() + ${ttl}::double precision * interval '1 millisecond', now(), now())
    ON CONFLICT ("run_id") DO UPDATE SET
      "status" = 'running',
      -- The same owner taking it again (the action acquires, then its background execution) is one attempt.
      "attempts" = CASE WHEN "offboardings"."lease_owner" = ${owner} THEN "offboardings"."attempts" ELSE "offboardings"."attempts" + 1 END,
      "started_by_upn" = ${actorUpn},
      "lease_owner" = ${owner},
      "lease_expires_at" = now() + ${ttl}::double precision * interval '1 millisecond',
      "started_at" = now(),
      "finished_at" = NULL,
      "progress" = NULL,
      "updated_at" = now()
    WHERE "offboardings"."lease_owner" IS NULL OR "offboardings"."lease_expires_at" <= now() OR "offboardings"."lease_owner" = ${owner}
    RETURNING "run_id"`;
  return rows.length === 1;
}

/** Extends owner's lease; false when it was lost (then stop removing). */
export async function renewOffboardingLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
  const prisma = await db();
  const ttl = ttlParam(ttlMs);
  const count = await prisma.$executeRaw`
    UPDATE "offboardings" SET "lease_expires_at" = now() + ${ttl}::double precision * interval '1 millisecond', "updated_at" = now()
    WHERE "run_id" = ${runId} AND "lease_owner" = ${owner} AND "status" = 'running'`;
  return count === 1;
}

/** Stores progress while owner holds the lease; false otherwise. */
export async function setOffboardingProgress(
  runId: string,
  owner: string,
  progress: { done: number; total: number; label: string },
): Promise<boolean> {
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE "offboardings" SET "progress" = ${jsonParam(progress)}::jsonb, "updated_at" = now()
    WHERE "run_id" = ${runId} AND "lease_owner" = ${owner} AND "status" = 'running'`;
  return count === 1;
}

/** Ends owner's lease with the execution's outcome and per-item result; false (no change) when the lease was lost. */
export async function releaseOffboardingLease(
  runId: string,
  owner: string,
  outcome: { status: "clean" | "incomplete"; result: JsonValue },
): Promise<boolean> {
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE "offboardings" SET
      "status" = ${outcome.status}::"OffboardingStatus",
      "result" = ${jsonParam(outcome.result)}::jsonb,
      "lease_owner" = NULL,
      "lease_expires_at" = NULL,
      "finished_at" = now(),
      "updated_at" = now()
    WHERE "run_id" = ${runId} AND "lease_owner" = ${owner} AND "status" = 'running'`;
  return count === 1;
}

/**
 * Logs the intent of one removal in the run's operation log (kind delete, step "offboarding"), only while `owner`
 * holds the offboarding lease: check and insert are one statement. Throws LeaseLostError otherwise.
 */
export async function recordOffboardingIntent(input: {
  runId: string;
  owner: string;
  key: string;
  target: string;
  actorUpn: string;
}): Promise<string> {
  const prisma = await db();
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    INSERT INTO "operations" ("run_id", "step_id", "key", "kind", "target", "actor_upn")
    SELECT ${input.runId}, ${OFFBOARDING_STEP_ID}, ${input.key}, 'delete', ${input.target}, ${input.actorUpn}
    WHERE EXISTS (
      SELECT 1 FROM "offboardings" WHERE "run_id" = ${input.runId} AND "lease_owner" = ${input.owner} AND "status" = 'running')
    RETURNING "id"::text AS "id"`;
  const id = rows[0]?.id;
  if (id === undefined) throw new LeaseLostError(input.runId, OFFBOARDING_STEP_ID);
  return id;
}
