// Offboarding of a run (removing what it created): one row per run, with a lease so one execution at a time removes.
//
// The lease is lib/db/leases.ts's, of kind "offboarding"; intents of removals go into the run's operation log
// (step "offboarding") only while the caller holds it.
import "server-only";
import { Prisma } from "./generated/client";
import { db } from "./client";
import { jsonParam, type JsonValue } from "./json";
import { acquireLease, leaseExpiry, releaseLease, renewLease, setLeaseProgress, type LeaseKey } from "./leases";

export { OFFBOARDING_STEP_ID } from "./leases";

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
  // First use: the record is created holding the lease. Concurrent first inserts collide on the primary key; the
  // losers (and every later execution) take the lease through the one conditional acquire of lib/db/leases.ts.
  const created = await prisma.$queryRaw<{ run_id: string }[]>`
    INSERT INTO "offboardings" ("run_id", "status", "attempts", "started_by_upn", "lease_owner", "lease_expires_at", "started_at", "updated_at")
    VALUES (${runId}, 'running', 1, ${actorUpn}, ${owner}, ${leaseExpiry(ttlMs)}, now(), now())
    ON CONFLICT ("run_id") DO NOTHING
    RETURNING "run_id"`;
  return created.length === 1 || acquireLease(offboardingLease(runId), owner, ttlMs, { actorUpn });
}

/** Extends owner's lease; false when it was lost (then stop removing). */
export function renewOffboardingLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
  return renewLease(offboardingLease(runId), owner, ttlMs);
}

/** Stores progress while owner holds the lease; false otherwise. */
export function setOffboardingProgress(
  runId: string,
  owner: string,
  progress: { done: number; total: number; label: string },
): Promise<boolean> {
  return setLeaseProgress(offboardingLease(runId), owner, progress);
}

/** Ends owner's lease with the execution's outcome and per-item result; false (no change) when the lease was lost. */
export function releaseOffboardingLease(
  runId: string,
  owner: string,
  outcome: { status: "clean" | "incomplete"; result: JsonValue },
): Promise<boolean> {
  return releaseLease(offboardingLease(runId), owner, outcome.status, [
    Prisma.sql`"result" = ${jsonParam(outcome.result)}::jsonb`,
    Prisma.sql`"finished_at" = now()`,
  ]);
}

function offboardingLease(runId: string): LeaseKey {
  return { kind: "offboarding", runId };
}
