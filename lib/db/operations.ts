// Write-ahead log of a run's remote writes (ARM, Graph): an intent is stored before each write, its outcome after.
// After a crash, intents without outcome are exactly the writes that may or may not have happened remotely.
import { type Prisma } from "./generated/client";
import { db } from "./client";
import { LeaseLostError } from "./step-runs";

export const OPERATION_KINDS = ["create", "update", "adopt", "grant", "delete", "register"] as const;
/** What a remote write does: adopt = take over an existing resource that matches the plan. */
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const OPERATION_STATUSES = ["intent", "succeeded", "failed"] as const;
/** intent = about to write (or crashed while writing); succeeded / failed = the write's known outcome. */
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

/** One logged remote write. id is a decimal string of a database sequence (log order). */
export interface Operation {
  id: string;
  runId: string;
  stepId: string;
  /** Deterministic key of the write, e.g. "storage.create:/subscriptions/…/storageAccounts/x". */
  key: string;
  kind: OperationKind;
  /** Resource id or Graph object description. */
  target: string;
  status: OperationStatus;
  resourceId: string | null;
  requestId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  startedAt: Date;
  completedAt: Date | null;
  actorUpn: string;
}

/** What recordIntent stores. With leaseOwner, the intent is stored only while that owner holds the step's lease. */
export interface NewOperationIntent {
  runId: string;
  stepId: string;
  key: string;
  kind: OperationKind;
  target: string;
  actorUpn: string;
  leaseOwner?: string;
}

/** The outcome of a remote write, as recordOutcome stores it. */
export interface OperationOutcome {
  status: "succeeded" | "failed";
  resourceId?: string | null;
  requestId?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
}

type OperationRow = Omit<Operation, "id" | "kind"> & { id: bigint; kind: string };

function toOperation(row: OperationRow): Operation {
  return { ...row, id: row.id.toString(), kind: row.kind as OperationKind };
}

// Operation ids are a BIGSERIAL; anything else (or out of range) is simply not found.
function parseOperationId(id: string): bigint | null {
  if (!/^[1-9]\d{0,18}$/.test(id)) return null;
  const value = BigInt(id);
  return value <= 9223372036854775807n ? value : null;
}

/**
 * Logs the intent to write, before the remote call; returns its id for recordOutcome.
 * With leaseOwner, throws LeaseLostError (and logs nothing) when that owner no longer holds the step's lease:
 * the check and the insert are one statement, so an execution that lost its step never logs (or should make) a write.
 */
export async function recordIntent(input: NewOperationIntent): Promise<string> {
  if (!(OPERATION_KINDS as readonly string[]).includes(input.kind)) {
    throw new TypeError(`unknown operation kind ${JSON.stringify(input.kind)}`);
  }
  const prisma = await db();
  const owner = input.leaseOwner ?? null;
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    INSERT INTO "operations" ("run_id", "step_id", "key", "kind", "target", "actor_upn")
    SELECT ${input.runId}, ${input.stepId}, ${input.key}, ${input.kind}, ${input.target}, ${input.actorUpn}
    WHERE ${owner}::text IS NULL OR EXISTS (
      SELECT 1 FROM "step_runs"
      WHERE "run_id" = ${input.runId} AND "step_id" = ${input.stepId} AND "lease_owner" = ${owner}::text AND "status" = 'running')
    RETURNING "id"::text AS "id"`;
  const id = rows[0]?.id;
  if (id === undefined) throw new LeaseLostError(input.runId, input.stepId);
  return id;
}

/** Records the outcome of a logged intent, once: false if the id is unknown or already has an outcome. */
export async function recordOutcome(id: string, outcome: OperationOutcome): Promise<boolean> {
  if (outcome.status !== "succeeded" && outcome.status !== "failed") {
    throw new TypeError(`unknown operation outcome ${JSON.stringify(outcome.status)}`);
  }
  const operationId = parseOperationId(id);
  if (operationId === null) return false;
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE "operations" SET
      "status" = ${outcome.status}::"OperationStatus",
      "resource_id" = ${outcome.resourceId ?? null}::text,
      "request_id" = ${outcome.requestId ?? null}::text,
      "error_code" = ${outcome.errorCode ?? null}::text,
      "error_message" = ${outcome.errorMessage ?? null}::text,
      "completed_at" = now()
    WHERE "id" = ${operationId.toString()}::bigint AND "status" = 'intent'`;
  return count === 1;
}

/** A run's logged writes in log order, optionally of one step. */
export async function listOperations(runId: string, options: { stepId?: string } = {}): Promise<Operation[]> {
  const prisma = await db();
  const where: Prisma.OperationWhereInput = { runId, ...(options.stepId === undefined ? {} : { stepId: options.stepId }) };
  const rows = await prisma.operation.findMany({ where, orderBy: { id: "asc" } });
  return rows.map(toOperation);
}

/**
 * A step's intents without outcome, in log order: what an interrupted attempt may have done remotely. The resuming
 * execution checks each against Azure and records its outcome before writing again.
 */
export async function findPendingIntents(runId: string, stepId: string): Promise<Operation[]> {
  const prisma = await db();
  const rows = await prisma.operation.findMany({ where: { runId, stepId, status: "intent" }, orderBy: { id: "asc" } });
  return rows.map(toOperation);
}

/** The latest succeeded write with this key in the run, or null: lets a retry skip what is already done. */
export async function lastSucceeded(runId: string, key: string): Promise<Operation | null> {
  const prisma = await db();
  const row = await prisma.operation.findFirst({ where: { runId, key, status: "succeeded" }, orderBy: { id: "desc" } });
  return row && toOperation(row);
}
