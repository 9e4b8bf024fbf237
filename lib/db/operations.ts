// Write-ahead log of a run's remote writes (ARM, Graph): an intent is stored before each write, its outcome after.
// After a crash, intents without outcome are exactly the writes that may or may not have happened remotely.
import "server-only";
import { Prisma } from "./generated/client";
import { appendAuditEvents, auditChainLocks, auditChainsOf, type NewAuditEvent } from "./audit";
import { db } from "./client";
import { leaseHeld, leaseOfLog, LeaseLostError } from "./leases";

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

/** What recordIntent stores. With leaseOwner, the intent is stored only while that owner holds the lease of stepId (see leaseOfLog). */
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

// With an owner, the intent goes in only while that owner holds the lease behind (runId, stepId): a step's, the
// offboarding's ("offboarding") or the rotation's ("credential-rotation").
function underLease(runId: string, stepId: string, owner: string | undefined): Prisma.Sql {
  return owner === undefined ? Prisma.sql`TRUE` : leaseHeld(leaseOfLog(runId, stepId), owner);
}

/**
 * Logs the intent to write, before the remote call; returns its id for recordOutcome.
 * With leaseOwner, throws LeaseLostError (and logs nothing) when that owner no longer holds the step's lease:
 * the check and the insert are one statement, so an execution that lost its step never logs (or should make) a write.
 */
export async function recordIntent(input: NewOperationIntent): Promise<string> {
  const { key, kind, target, ...header } = input;
  const [id] = await recordIntents({ ...header, items: [{ key, kind, target }] });
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

/** Intents of one step execution, logged together: the header is shared, the lease check covers the whole batch. */
export interface IntentBatch {
  runId: string;
  stepId: string;
  actorUpn: string;
  leaseOwner?: string;
  items: readonly { key: string; kind: OperationKind; target: string }[];
}

/**
 * Logs several intents in one statement, all or none; ids in input order. Throws LeaseLostError (and logs nothing) when
 * leaseOwner no longer holds the step, like recordIntent.
 */
export async function recordIntents(batch: IntentBatch): Promise<string[]> {
  if (batch.items.length === 0) return [];
  for (const item of batch.items) {
    if (!(OPERATION_KINDS as readonly string[]).includes(item.kind))
      throw new TypeError(`unknown operation kind ${JSON.stringify(item.kind)}`);
  }
  const prisma = await db();
  // ORDER BY ord feeds the insert in input order, so the sequence hands out ascending ids in that order.
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    INSERT INTO "operations" ("run_id", "step_id", "key", "kind", "target", "actor_upn")
    SELECT ${batch.runId}, ${batch.stepId}, t."key", t."kind", t."target", ${batch.actorUpn}
    FROM unnest(${batch.items.map((i) => i.key)}::text[], ${batch.items.map((i) => i.kind)}::text[], ${batch.items.map((i) => i.target)}::text[])
      WITH ORDINALITY AS t("key", "kind", "target", "ord")
    WHERE ${underLease(batch.runId, batch.stepId, batch.leaseOwner)}
    ORDER BY t."ord"
    RETURNING "id"::text AS "id"`;
  if (rows.length !== batch.items.length) throw new LeaseLostError(batch.runId, batch.stepId);
  return rows
    .map((r) => BigInt(r.id))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map(String);
}

/** An outcome to record and the audit event that reports it. */
export interface OutcomeWithAudit {
  intentId: string;
  outcome: OperationOutcome;
  audit: NewAuditEvent;
}

/**
 * Records outcomes and appends their audit events in one transaction (one chain lock for the batch): a write's outcome
 * and its audit event are stored together or not at all. Returns, per item, whether its intent took the outcome.
 */
export async function recordOutcomesWithAudit(items: readonly OutcomeWithAudit[]): Promise<boolean[]> {
  if (items.length === 0) return [];
  for (const { outcome } of items) {
    if (outcome.status !== "succeeded" && outcome.status !== "failed")
      throw new TypeError(`unknown operation outcome ${JSON.stringify(outcome.status)}`);
  }
  const prisma = await db();
  return prisma.$transaction(
    async (tx) => {
      const known = items.map((i) => parseOperationId(i.intentId));
      const audits = items.map((i) => i.audit);
      // The outcomes and the audit chains' locks in one statement: with the chain heads and the insert, three round
      // trips per batch inside the transaction.
      const [updated] = await tx.$queryRaw<{ ids: string[] }[]>`
        WITH "updated" AS (
          UPDATE "operations" AS o SET
            "status" = t."status"::"OperationStatus",
            "resource_id" = t."resource_id",
            "request_id" = t."request_id",
            "error_code" = t."error_code",
            "error_message" = t."error_message",
            "completed_at" = now()
          FROM unnest(
            ${known.map((id) => (id === null ? "0" : id.toString()))}::bigint[],
            ${items.map((i) => i.outcome.status)}::text[],
            ${items.map((i) => i.outcome.resourceId ?? null)}::text[],
            ${items.map((i) => i.outcome.requestId ?? null)}::text[],
            ${items.map((i) => i.outcome.errorCode ?? null)}::text[],
            ${items.map((i) => i.outcome.errorMessage ?? null)}::text[]
          ) AS t("id", "status", "resource_id", "request_id", "error_code", "error_message")
          WHERE o."id" = t."id" AND o."status" = 'intent'
          RETURNING o."id"::text AS "id"
        )
        SELECT array(SELECT "id" FROM "updated") AS "ids", ${auditChainLocks(auditChainsOf(audits))} AS "locks"`;
      await appendAuditEvents(tx, audits, { chainsLocked: true });
      const took = new Set(updated?.ids ?? []);
      return known.map((id) => id !== null && took.has(id.toString()));
    },
    { maxWait: 30_000, timeout: 30_000 },
  );
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
