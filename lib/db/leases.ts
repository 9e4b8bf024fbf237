// The one lease machinery: a provisioning step, a run's offboarding and a run's credential rotation each run one execution
// at a time, across tabs, admins and server instances.
//
// A lease is (lease_owner, lease_expires_at) on the job's row, taken, renewed, used and given back by single conditional
// statements evaluated on the database clock, so server clocks never disagree about expiry. Prisma's updateMany is not
// guaranteed to be one statement (it may read ids first), hence raw SQL. Table and column names come from the closed
// set of kinds below, never from input; every value is a bound parameter.
import "server-only";
import { Prisma } from "./generated/client";
import { db } from "./client";
import { jsonParam } from "./json";

export const LEASE_KINDS = ["step", "offboarding", "rotation"] as const;
/** What a lease guards: one step of a run, a run's offboarding, or a run's credential rotation. */
export type LeaseKind = (typeof LEASE_KINDS)[number];

/** Which lease: its kind and the identity of its row. */
export type LeaseKey =
  { kind: "step"; runId: string; stepId: string } | { kind: "offboarding"; runId: string } | { kind: "rotation"; runId: string };

/** The write-ahead log's step id of offboarding removals. */
export const OFFBOARDING_STEP_ID = "offboarding";
/** The write-ahead log's step id of credential-rotation writes. */
export const ROTATION_STEP_ID = "credential-rotation";

/** Thrown by a write-ahead entry (or a lease-bound update) when the caller's lease is gone: stop before writing anything remote. */
export class LeaseLostError extends Error {
  constructor(
    readonly runId: string,
    readonly stepId: string,
  ) {
    super(`The lease on ${stepId} of this run is no longer held`);
    this.name = "LeaseLostError";
  }
}

/** The lease of a step. */
export function stepLease(runId: string, stepId: string): LeaseKey {
  return { kind: "step", runId, stepId };
}

/** The write-ahead log's step id of the writes made under this lease. */
export function logStepIdOf(key: LeaseKey): string {
  if (key.kind === "step") return key.stepId;
  return key.kind === "offboarding" ? OFFBOARDING_STEP_ID : ROTATION_STEP_ID;
}

/** The lease that guards writes logged under (runId, stepId) in the write-ahead log. */
export function leaseOfLog(runId: string, stepId: string): LeaseKey {
  if (stepId === OFFBOARDING_STEP_ID) return { kind: "offboarding", runId };
  if (stepId === ROTATION_STEP_ID) return { kind: "rotation", runId };
  return { kind: "step", runId, stepId };
}

/** Kind-specific inputs of an acquire. */
export interface AcquireOptions {
  /** Offboarding: who starts this execution (shown as the removal's initiator). */
  actorUpn?: string;
}

interface KindSql {
  table: Prisma.Sql;
  /** The type the status column is cast to. */
  statusType: Prisma.Sql;
  /** The row of this lease, on alias t. */
  identity(key: LeaseKey): Prisma.Sql;
  /** What else must hold for the lease to be taken. */
  acquireWhen: Prisma.Sql;
  /** Columns set besides the lease on acquire. */
  acquireSet(owner: string, options: AcquireOptions): Prisma.Sql[];
}

const byRun = (key: LeaseKey) => Prisma.sql`t."run_id" = ${key.runId}`;

const KINDS: Readonly<Record<LeaseKind, KindSql>> = {
  step: {
    table: Prisma.raw(`"step_runs"`),
    statusType: Prisma.raw(`"StepStatus"`),
    identity: (key) => Prisma.sql`t."run_id" = ${key.runId} AND t."step_id" = ${key.kind === "step" ? key.stepId : ""}`,
    // A done step is not run again, and a cancelled or unconfirmed run starts nothing.
    acquireWhen: Prisma.sql`t."status" <> 'done' AND EXISTS (SELECT 1 FROM "onboarding_runs" r WHERE r."id" = t."run_id" AND r."status" = 'running')`,
    acquireSet: () => [
      Prisma.sql`"attempts" = t."attempts" + 1`,
      Prisma.sql`"started_at" = COALESCE(t."started_at", now())`,
      Prisma.sql`"finished_at" = NULL`,
    ],
  },
  offboarding: {
    table: Prisma.raw(`"offboardings"`),
    statusType: Prisma.raw(`"OffboardingStatus"`),
    identity: byRun,
    acquireWhen: Prisma.sql`TRUE`,
    acquireSet: (owner, options) => [
      // The same owner taking it again (the action acquires, then its background execution) is one attempt.
      Prisma.sql`"attempts" = CASE WHEN t."lease_owner" = ${owner} THEN t."attempts" ELSE t."attempts" + 1 END`,
      Prisma.sql`"started_by_upn" = COALESCE(${options.actorUpn ?? null}::text, t."started_by_upn")`,
      Prisma.sql`"started_at" = now()`,
      Prisma.sql`"finished_at" = NULL`,
      Prisma.sql`"progress" = NULL`,
    ],
  },
  rotation: {
    table: Prisma.raw(`"credential_rotations"`),
    statusType: Prisma.raw(`text`),
    identity: byRun,
    // An unfinished rotation (failed, waiting for the acknowledgement, or crashed) of a run that is still completed.
    acquireWhen: Prisma.sql`t."status" <> 'done' AND EXISTS (SELECT 1 FROM "onboarding_runs" r WHERE r."id" = t."run_id" AND r."status" = 'completed')`,
    acquireSet: () => [Prisma.sql`"error" = NULL`],
  },
};

// Bounds that catch unit mistakes (seconds passed as ms, or Infinity). Real leases should be tens of seconds,
// renewed at a third of that: a lease shorter than a round trip can expire before its holder hears it got it.
const MIN_TTL_MS = 1;
const MAX_TTL_MS = 24 * 60 * 60 * 1000;

/** The expiry of a lease taken or renewed now for ttlMs, on the database clock. Throws RangeError outside 1 ms … 24 h. */
export function leaseExpiry(ttlMs: number): Prisma.Sql {
  if (!Number.isFinite(ttlMs) || ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS) {
    throw new RangeError(`lease ttl must be between ${MIN_TTL_MS} and ${MAX_TTL_MS} ms, got ${ttlMs}`);
  }
  return Prisma.sql`now() + ${Math.round(ttlMs)}::double precision * interval '1 millisecond'`;
}

// Held: owner's, and the job still running. An expired lease that nobody took over is still held: expiry only makes it takeable.
function heldBy(owner: string): Prisma.Sql {
  return Prisma.sql`t."lease_owner" = ${owner} AND t."status" = 'running'`;
}

/**
 * Takes the lease for `owner` if it is free, expired or already owner's, and the kind's conditions hold; returns whether
 * it did. On success the job is running. `owner` must be unique per execution: two callers with one owner both win.
 */
export async function acquireLease(key: LeaseKey, owner: string, ttlMs: number, options: AcquireOptions = {}): Promise<boolean> {
  const k = KINDS[key.kind];
  const set = [
    Prisma.sql`"status" = 'running'`,
    Prisma.sql`"lease_owner" = ${owner}`,
    Prisma.sql`"lease_expires_at" = ${leaseExpiry(ttlMs)}`,
    Prisma.sql`"updated_at" = now()`,
    ...k.acquireSet(owner, options),
  ];
  const prisma = await db();
  // One statement: concurrent acquirers queue on the row lock, and PostgreSQL re-checks the WHERE on the winner's
  // committed row (READ COMMITTED), so the losers see a live foreign lease and update nothing.
  const count = await prisma.$executeRaw`
    UPDATE ${k.table} AS t SET ${Prisma.join(set, ", ")}
    WHERE ${k.identity(key)} AND ${k.acquireWhen}
      AND (t."lease_owner" IS NULL OR t."lease_expires_at" <= now() OR t."lease_owner" = ${owner})`;
  return count === 1;
}

/** Sets columns of the job's row only while owner holds its lease, in one statement; false (no change) otherwise. */
export async function updateWhileHeld(key: LeaseKey, owner: string, assignments: readonly Prisma.Sql[]): Promise<boolean> {
  const k = KINDS[key.kind];
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE ${k.table} AS t SET ${Prisma.join([...assignments, Prisma.sql`"updated_at" = now()`], ", ")}
    WHERE ${k.identity(key)} AND ${heldBy(owner)}`;
  return count === 1;
}

/** Extends owner's lease to now + ttlMs; false when it was lost (taken over, released): then stop working. */
export function renewLease(key: LeaseKey, owner: string, ttlMs: number): Promise<boolean> {
  return updateWhileHeld(key, owner, [Prisma.sql`"lease_expires_at" = ${leaseExpiry(ttlMs)}`]);
}

/** Stores the running job's progress (step and offboarding rows); false unless owner still holds the lease. */
export function setLeaseProgress(key: LeaseKey, owner: string, progress: { done: number; total: number; label: string }): Promise<boolean> {
  return updateWhileHeld(key, owner, [Prisma.sql`"progress" = ${jsonParam(progress)}::jsonb`]);
}

/** Ends owner's lease with a status and the kind's outcome columns; false (no change) when the lease was lost. */
export async function releaseLease(key: LeaseKey, owner: string, status: string, assignments: readonly Prisma.Sql[]): Promise<boolean> {
  const k = KINDS[key.kind];
  return updateWhileHeld(key, owner, [
    Prisma.sql`"status" = ${status}::${k.statusType}`,
    Prisma.sql`"lease_owner" = NULL`,
    Prisma.sql`"lease_expires_at" = NULL`,
    ...assignments,
  ]);
}

/** A condition true while owner holds the lease: the write-ahead log inserts an intent only under it, in the same statement. */
export function leaseHeld(key: LeaseKey, owner: string): Prisma.Sql {
  const k = KINDS[key.kind];
  return Prisma.sql`EXISTS (SELECT 1 FROM ${k.table} AS t WHERE ${k.identity(key)} AND ${heldBy(owner)})`;
}
