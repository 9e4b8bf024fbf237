// The one write-ahead entry point of every leased job: intent (only while the lease is held) → remote call → outcome
// with its audit event. Intents and outcomes go through group commits, so writes made side by side share batches.
import "server-only";
import { toAzureError } from "@/lib/azure/errors";
import {
  logStepIdOf,
  LeaseLostError,
  recordIntents,
  recordOutcomesWithAudit,
  type LeaseKey,
  type OperationKind,
  type OutcomeWithAudit,
} from "@/lib/db";
import { groupCommit, groupCommitPerKey } from "@/lib/group-commit";

/** One remote write as the log knows it: a deterministic key, what it does and to what. */
export interface WriteOp {
  key: string;
  kind: OperationKind;
  target: string;
}

/** How a failed write is told in the log: our code and words, never a raw response. */
export interface WriteFailure {
  code: string;
  message: string;
  requestId?: string | undefined;
}

/** Everything a job's write-ahead entry needs. */
export interface WriteAheadInput {
  lease: LeaseKey;
  owner: string;
  tenantId: string;
  actor: { userId: string | null; upn: string };
  /** Progress for the stall bound: a write starts or ends. */
  touch?: () => void;
  /** False once the job knows its lease is gone or it stalled: nothing more is logged or written. */
  live?: () => boolean;
  /** Wraps the entry's database calls (a step's context turns their failures into DatabaseError). */
  database?: <T>(call: () => Promise<T>) => Promise<T>;
  /** The log's words for a failed call; by default lib/azure's for "<kind> <target>". */
  failureOf?: (error: unknown, op: WriteOp) => WriteFailure;
  /** A write succeeded (the engine counts progress between failed attempts). */
  onSucceeded?: (op: WriteOp) => void;
}

/** `write(op, call, resourceIdOf)`: logs the intent under the lease, makes the call, logs its outcome and audit event. */
export type WriteAhead = <T>(op: WriteOp, call: () => Promise<T>, resourceIdOf?: (result: T) => string | undefined) => Promise<T>;

// Outcomes of every job of a tenant in this process share batches: they append to the tenant's one audit chain under
// one lock, so two steps working side by side commit together instead of taking turns on the lock.
const logOutcomeOfTenant = groupCommitPerKey((items: OutcomeWithAudit[]) => recordOutcomesWithAudit(items));

/** The write-ahead entry of one job execution. Throws LeaseLostError (nothing logged, nothing sent) once the lease is gone. */
export function writeAhead(input: WriteAheadInput): WriteAhead {
  const { lease, owner, tenantId, actor } = input;
  const runId = lease.runId;
  const stepId = logStepIdOf(lease);
  const touch = input.touch ?? (() => {});
  const database = input.database ?? (<T>(call: () => Promise<T>) => call());
  const failureOf =
    input.failureOf ?? ((error: unknown, op: WriteOp) => toAzureError(error, { action: `${op.kind} ${op.target}` }) as WriteFailure);
  const logIntent = groupCommit((items: WriteOp[]) =>
    database(() => recordIntents({ runId, stepId, actorUpn: actor.upn, leaseOwner: owner, items })),
  );
  const logOutcome = (item: OutcomeWithAudit) => database(() => logOutcomeOfTenant(tenantId, item));

  return async (op, call, resourceIdOf) => {
    if (input.live && !input.live()) throw new LeaseLostError(runId, stepId);
    touch();
    // The lease check and the insert are one statement (recordIntents): an execution that lost its lease logs nothing.
    const intentId = await logIntent({ key: op.key, kind: op.kind, target: op.target });
    const audit = { tenantId, runId, actorUserId: actor.userId, actorUpn: actor.upn, action: "azure.write", target: op.target };
    let result: Awaited<ReturnType<typeof call>>;
    try {
      result = await call();
    } catch (error) {
      touch();
      const failure = failureOf(error, op);
      await logOutcome({
        intentId,
        outcome: { status: "failed", errorCode: failure.code, errorMessage: failure.message, requestId: failure.requestId ?? null },
        audit: {
          ...audit,
          outcome: failure.code === "forbidden" ? "denied" : "failure",
          detail: { runId, stepId, key: op.key, kind: op.kind, errorCode: failure.code, requestId: failure.requestId ?? null },
        },
      });
      throw error;
    }
    touch();
    const resourceId = safeResourceId(() => resourceIdOf?.(result));
    input.onSucceeded?.(op);
    await logOutcome({
      intentId,
      outcome: { status: "succeeded", resourceId },
      audit: { ...audit, outcome: "success", detail: { runId, stepId, key: op.key, kind: op.kind, resourceId } },
    });
    return result;
  };
}

// resourceIdOf is a convenience: if it throws, the write still happened and must be logged as succeeded.
function safeResourceId(get: () => string | undefined): string | null {
  try {
    return get() ?? null;
  } catch {
    return null;
  }
}
