// Client-secret rotations of a run's app registration: one row per run with a lease, so a single execution rotates.
//
// The lease is lib/db/leases.ts's, of kind "rotation"; its writes are logged under step id "credential-rotation".
import "server-only";
import { Prisma } from "./generated/client";
import { db } from "./client";
import { jsonParam, type JsonValue } from "./json";
import { acquireLease, leaseExpiry, releaseLease, renewLease, updateWhileHeld, type LeaseKey } from "./leases";

export const ROTATION_STATUSES = ["running", "waiting_ack", "failed", "done"] as const;
/** running = a lease holder works (or crashed: its lease lapses); waiting_ack = manual hand-off not yet acknowledged. */
export type RotationStatus = (typeof ROTATION_STATUSES)[number];

export const ROTATION_PHASES = ["started", "created", "verified", "handed_off", "old_removed"] as const;
/** The last phase a rotation completed; a resumed rotation continues after it. */
export type RotationPhase = (typeof ROTATION_PHASES)[number];

/** Why a rotation attempt stopped; safe to show. */
export interface RotationError {
  code: string;
  message: string;
}

/** Metadata of a client secret: never its value. */
export interface SecretMeta {
  keyId: string;
  hint: string;
  expiresAt: Date | null;
}

/** A run's latest rotation. */
export interface CredentialRotation {
  runId: string;
  rotationId: string;
  status: RotationStatus;
  phase: RotationPhase;
  mode: "api" | "manual";
  old: SecretMeta | null;
  new: SecretMeta | null;
  handedOffAt: Date | null;
  error: RotationError | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  startedByUpn: string;
  startedAt: Date;
  finishedAt: Date | null;
  updatedAt: Date;
}

interface Row {
  run_id: string;
  rotation_id: string;
  status: string;
  phase: string;
  mode: string;
  old_key_id: string | null;
  old_hint: string | null;
  old_expires_at: Date | null;
  new_key_id: string | null;
  new_hint: string | null;
  new_expires_at: Date | null;
  handed_off_at: Date | null;
  error: unknown;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  started_by_upn: string;
  started_at: Date;
  finished_at: Date | null;
  updated_at: Date;
}

function meta(keyId: string | null, hint: string | null, expiresAt: Date | null): SecretMeta | null {
  return keyId === null ? null : { keyId, hint: hint ?? "", expiresAt };
}

function toRotation(row: Row): CredentialRotation {
  return {
    runId: row.run_id,
    rotationId: row.rotation_id,
    status: row.status as RotationStatus,
    phase: row.phase as RotationPhase,
    mode: row.mode === "manual" ? "manual" : "api",
    old: meta(row.old_key_id, row.old_hint, row.old_expires_at),
    new: meta(row.new_key_id, row.new_hint, row.new_expires_at),
    handedOffAt: row.handed_off_at,
    error: (row.error as RotationError | null) ?? null,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    startedByUpn: row.started_by_upn,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

/** The run's latest rotation, or null when its secret was never rotated. */
export async function getRotation(runId: string): Promise<CredentialRotation | null> {
  const prisma = await db();
  const rows = await prisma.$queryRaw<Row[]>`SELECT * FROM "credential_rotations" WHERE "run_id" = ${runId}`;
  const row = rows[0];
  return row ? toRotation(row) : null;
}

/** Latest rotations of these runs, by run id (for lists). */
export async function listRotations(runIds: readonly string[]): Promise<Map<string, CredentialRotation>> {
  if (runIds.length === 0) return new Map();
  const prisma = await db();
  const rows = await prisma.$queryRaw<Row[]>`SELECT * FROM "credential_rotations" WHERE "run_id" = ANY(${[...runIds]}::text[])`;
  return new Map(rows.map((r) => [r.run_id, toRotation(r)]));
}

/** What a new rotation starts from. */
export interface NewRotation {
  runId: string;
  rotationId: string;
  mode: "api" | "manual";
  old: SecretMeta | null;
  startedByUpn: string;
  owner: string;
  ttlMs: number;
}

/**
 * Starts a new rotation holding the lease; null when one is already under way (not done): then resume it instead.
 * One statement, so of two admins clicking together exactly one starts.
 */
export async function startRotation(input: NewRotation): Promise<CredentialRotation | null> {
  const prisma = await db();
  // The new rotation is created holding the lease (its first acquisition); resumes go through acquireLease.
  const rows = await prisma.$queryRaw<Row[]>`
    INSERT INTO "credential_rotations" AS c ("run_id", "rotation_id", "status", "phase", "mode", "old_key_id", "old_hint", "old_expires_at",
      "new_key_id", "new_hint", "new_expires_at", "handed_off_at", "error", "lease_owner", "lease_expires_at", "started_by_upn", "started_at",
      "finished_at", "updated_at")
    SELECT ${input.runId}, ${input.rotationId}::uuid, 'running', 'started', ${input.mode}, ${input.old?.keyId ?? null}, ${input.old?.hint ?? null},
      ${input.old?.expiresAt ?? null}::timestamptz, NULL, NULL, NULL, NULL, NULL, ${input.owner},
      ${leaseExpiry(input.ttlMs)}, ${input.startedByUpn}, now(), NULL, now()
    FROM "onboarding_runs" r WHERE r."id" = ${input.runId} AND r."status" = 'completed'
    -- Locks the run row: an offboarding that moves the run on waits, then finds this rotation's lease.
    FOR UPDATE OF r
    ON CONFLICT ("run_id") DO UPDATE SET
      "rotation_id" = EXCLUDED."rotation_id", "status" = 'running', "phase" = 'started', "mode" = EXCLUDED."mode",
      "old_key_id" = EXCLUDED."old_key_id", "old_hint" = EXCLUDED."old_hint", "old_expires_at" = EXCLUDED."old_expires_at",
      "new_key_id" = NULL, "new_hint" = NULL, "new_expires_at" = NULL, "handed_off_at" = NULL, "error" = NULL,
      "lease_owner" = EXCLUDED."lease_owner", "lease_expires_at" = EXCLUDED."lease_expires_at",
      "started_by_upn" = EXCLUDED."started_by_upn", "started_at" = now(), "finished_at" = NULL, "updated_at" = now()
    WHERE c."status" = 'done'
    RETURNING *`;
  const row = rows[0];
  return row ? toRotation(row) : null;
}

/**
 * Takes the lease of an unfinished rotation: failed, waiting for the acknowledgement, or running with a lapsed lease
 * (its executor crashed). Null when another execution holds it or there is nothing to resume.
 */
export async function resumeRotation(runId: string, owner: string, ttlMs: number): Promise<CredentialRotation | null> {
  if (!(await acquireLease(rotationLease(runId), owner, ttlMs))) return null;
  // Ours now: nobody else changes the row until we release it.
  return getRotation(runId);
}

/** Extends owner's lease; false once it was lost (then stop before the next write). */
export function renewRotationLease(runId: string, owner: string, ttlMs: number): Promise<boolean> {
  return renewLease(rotationLease(runId), owner, ttlMs);
}

/** Progress of the lease holder: the phase it completed and what it learned. False when the lease was lost. */
export function advanceRotation(
  runId: string,
  owner: string,
  update: { phase: RotationPhase; new?: SecretMeta; handedOffAt?: Date },
): Promise<boolean> {
  return updateWhileHeld(rotationLease(runId), owner, [
    Prisma.sql`"phase" = ${update.phase}`,
    Prisma.sql`"new_key_id" = COALESCE(${update.new?.keyId ?? null}::text, t."new_key_id")`,
    Prisma.sql`"new_hint" = COALESCE(${update.new?.hint ?? null}::text, t."new_hint")`,
    Prisma.sql`"new_expires_at" = COALESCE(${update.new?.expiresAt ?? null}::timestamptz, t."new_expires_at")`,
    Prisma.sql`"handed_off_at" = COALESCE(${update.handedOffAt ?? null}::timestamptz, t."handed_off_at")`,
  ]);
}

/** Ends owner's lease: done, failed (with the reason) or waiting for the manual hand-off's acknowledgement. */
export function releaseRotation(
  runId: string,
  owner: string,
  outcome: { status: "done" | "failed" | "waiting_ack"; error?: RotationError },
): Promise<boolean> {
  return releaseLease(rotationLease(runId), owner, outcome.status, [
    Prisma.sql`"error" = ${jsonParam(outcome.error as JsonValue | undefined)}::jsonb`,
    Prisma.sql`"finished_at" = CASE WHEN ${outcome.status}::text = 'done' THEN now() ELSE NULL END`,
  ]);
}

function rotationLease(runId: string): LeaseKey {
  return { kind: "rotation", runId };
}

/** App-registration step outputs of these runs (the secret metadata the run created), by run id. */
export async function listAppRegistrationOutputs(runIds: readonly string[]): Promise<Map<string, JsonValue>> {
  if (runIds.length === 0) return new Map();
  const prisma = await db();
  const rows = await prisma.stepRun.findMany({
    where: { runId: { in: [...runIds] }, stepId: "app-registration", status: "done" },
    select: { runId: true, outputs: true },
  });
  return new Map(rows.flatMap((r) => (r.outputs === null ? [] : [[r.runId, r.outputs as JsonValue] as const])));
}
