// The one retry policy of every leased job (steps, offboarding, rotation) and of planning: lease timing, how a failure is
// classified, and the budgets and backoff that decide whether and when to try again.
import "server-only";
import { classifyAzureError, retryAfterOfError, toAzureError, type AzureOperationError } from "@/lib/azure/errors";
import { LeaseLostError, type StepError } from "@/lib/db";
import { TokenUnavailableError } from "@/lib/auth/tokens";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";

/** Tunables of an execution; tests shorten them. */
export interface EnginePolicy {
  /** Lease length; the heartbeat renews it every third of this. */
  leaseTtlMs: number;
  /** Tries of one attempt cycle (read → apply → verify) on throttling, 5xx and network errors, including the first. */
  transientAttempts: number;
  transientBaseDelayMs: number;
  transientMaxDelayMs: number;
  /** Longest Retry-After honoured; a longer one is cut to this (the attempt budget still bounds the total). */
  retryAfterMaxMs: number;
  /** Total time spent waiting for Entra ID / ARM replication before giving up. */
  replicationBudgetMs: number;
  replicationBaseDelayMs: number;
  replicationMaxDelayMs: number;
  /** Cycles when verify disagrees with apply (a read that lags the write), including the first. */
  verifyAttempts: number;
  /** No progress (write, progress report, retry wait, answer from a service) for this long: the execution is cut off and its lease given up. executeStep defaults it to STEP_STALL_SECONDS. */
  stallMs: number;
}

/** Production values: 60 s leases; 5 tries 1→8 s on transient errors; up to 5 min of 2→30 s waits on replication; 5 min stall bound. */
export const DEFAULT_POLICY: EnginePolicy = {
  leaseTtlMs: 60_000,
  transientAttempts: 5,
  transientBaseDelayMs: 1_000,
  transientMaxDelayMs: 30_000,
  retryAfterMaxMs: 60_000,
  replicationBudgetMs: 5 * 60_000,
  replicationBaseDelayMs: 2_000,
  replicationMaxDelayMs: 30_000,
  verifyAttempts: 3,
  stallMs: 300_000,
};

/** Exponential delay for the n-th retry (1-based). */
export function backoffMs(retry: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
}

/** What to do about a failed attempt. */
export type Classified =
  | { kind: "lease_lost" }
  | { kind: "reauth"; error: StepError }
  | { kind: "transient"; error: StepError; retryAfterMs?: number }
  | { kind: "replication"; error: StepError }
  | { kind: "interrupted"; error: StepError }
  | { kind: "permanent"; status: "failed" | "needs_admin"; error: StepError };

/**
 * The portal's own database failed under a step (recording an intent or outcome, progress, a secret). Nothing is wrong
 * with the step or with Azure: the execution is retried, and handed back for a resume if the database stays away.
 */
export class DatabaseError extends Error {
  constructor(cause: unknown) {
    super("The portal's database did not answer", { cause });
    this.name = "DatabaseError";
  }
}

/** The error a step carries after its execution was cut off (server stopped, database unreachable). */
export const INTERRUPTED: StepError = {
  code: "interrupted",
  message:
    "This step was interrupted before it finished (the server stopped or lost its database). Resume to continue: it re-checks what already exists before changing anything.",
};

/** Facts about the execution that change how an error reads. */
export interface ClassifyContext {
  /** What the step was doing, for messages of errors that aren't already phrased: `complete "Role assignments"`. */
  action: string;
  /** Set when the delegated token could not be obtained during the attempt (the SDK may have wrapped that error). */
  tokenFailure?: TokenUnavailableError;
  /** A create succeeded recently in this execution: Graph's 404 right after it is replication lag, not absence. */
  createdRecently: boolean;
  /** Deletes succeeded recently in this execution and none was refused: a role definition still "in use" is replication lag. */
  deletedRecently?: boolean;
  /** The job's own classification of errors only it knows (e.g. a group that still holds resources); undefined: the usual rules. */
  special?: (error: unknown) => Classified | undefined;
}

const FORBIDDEN_AZURE_CODES = ["Authorization_RequestDenied", "AuthorizationFailed"];

/** Classify anything a step threw into a retry decision with a message safe to show. */
export function classifyFailure(error: unknown, ctx: ClassifyContext): Classified {
  if (error instanceof LeaseLostError || hasCause(error, LeaseLostError)) return { kind: "lease_lost" };
  const tokenFailure = error instanceof TokenUnavailableError ? error : ctx.tokenFailure;
  if (tokenFailure) return { kind: "reauth", error: { code: tokenFailure.code, message: tokenFailure.message } };
  if (error instanceof DatabaseError || hasCause(error, DatabaseError)) return { kind: "interrupted", error: INTERRUPTED };
  const special = ctx.special?.(error);
  if (special) return special;

  const azure = toAzureError(error, { action: ctx.action });
  const stepError = toStepError(azure);
  if (azure.code === "forbidden" || (azure.azureCode !== undefined && FORBIDDEN_AZURE_CODES.includes(azure.azureCode))) {
    return { kind: "permanent", status: "needs_admin", error: { ...stepError, code: "forbidden" } };
  }
  if (azure.code === "reauth_required") return { kind: "reauth", error: stepError };
  if (ctx.createdRecently && azure.code === "not_found" && azure.azureCode?.startsWith("Request_")) {
    return { kind: "replication", error: stepError };
  }
  // Azure may still count an assignment deleted a moment ago against its role definition: replication, not a refusal.
  if (ctx.deletedRecently && azure.code === "role_definition_in_use") return { kind: "replication", error: stepError };
  const cls = classifyAzureError(error);
  if (cls === "transient") {
    // lib/azure wraps every SDK error in an AzureOperationError, which now carries the Retry-After of the response.
    const retryAfterMs = azure.retryAfterMs ?? retryAfterOf(error);
    return { kind: "transient", error: stepError, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  if (cls === "replication") return { kind: "replication", error: stepError };
  return { kind: "permanent", status: "failed", error: stepError };
}

// toAzureError phrases a 403 as "… It needs <role>. Ask <who> to grant it, …": lift both out for the UI.
function toStepError(e: AzureOperationError): StepError {
  const out: StepError = { code: e.code, message: e.message };
  const role = / It needs (.+?)\. Ask /.exec(e.message)?.[1];
  const who = / Ask (.+?) to grant it/.exec(e.message)?.[1];
  if (role) out.requiredRole = role;
  if (who) out.whoCanAct = who;
  return out;
}

function hasCause(error: unknown, type: new (...args: never[]) => Error): boolean {
  let current = (error as { cause?: unknown } | null)?.cause;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof type) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Retry-After of a failure: an AzureOperationError's `retryAfterMs`, a raw RestError / GraphError's response
 * headers, or the same on an error up to five `cause`s deep (a step may wrap what lib/azure threw).
 * The engine still cuts the result to `retryAfterMaxMs`.
 */
export function retryAfterOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; typeof current === "object" && current !== null && depth < 5; depth++) {
    const ms = retryAfterOfError(current);
    if (ms !== undefined) return ms;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The retry allowance of one job: transient tries (database failures count with them) and the replication time budget. */
export interface RetryBudget {
  /** The wait before trying again after this failure; null when it is not retried or its allowance is spent. */
  next(c: Classified): number | null;
  /** The wait of the n-th replication retry (1-based) while the replication budget lasts, else null; in-step waits share it. */
  replicationDelay(retry: number): number | null;
  /** The work got further since the last failure: a fresh allowance. */
  reset(): void;
}

/** A fresh retry allowance under `policy`; `now` is the clock of the replication budget. */
export function retryBudget(policy: EnginePolicy, now: () => number = Date.now): RetryBudget {
  let transientFailures = 0;
  let replicationRetries = 0;
  let replicationStartedAt: number | undefined;
  const replicationDelay = (retry: number): number | null => {
    replicationStartedAt ??= now();
    const delay = backoffMs(retry, policy.replicationBaseDelayMs, policy.replicationMaxDelayMs);
    return now() - replicationStartedAt + delay > policy.replicationBudgetMs ? null : delay;
  };
  return {
    next(c) {
      switch (c.kind) {
        case "transient":
        case "interrupted":
          transientFailures += 1;
          if (transientFailures >= policy.transientAttempts) return null;
          return c.kind === "transient" && c.retryAfterMs !== undefined
            ? Math.min(c.retryAfterMs, policy.retryAfterMaxMs)
            : backoffMs(transientFailures, policy.transientBaseDelayMs, policy.transientMaxDelayMs);
        case "replication":
          replicationRetries += 1;
          return replicationDelay(replicationRetries);
        default:
          return null;
      }
    },
    replicationDelay,
    reset() {
      transientFailures = 0;
      replicationRetries = 0;
      replicationStartedAt = undefined;
    },
  };
}

/** What a retry wait tells the admin, by the failure it waits out. */
export function retryLabel(c: Classified, delayMs: number): string {
  const wait = `${Math.max(1, Math.round(delayMs / 1000))} s`;
  if (c.kind === "interrupted") return `The portal's database did not answer; retrying in ${wait}`;
  if (c.kind === "replication") return `Waiting for Azure to replicate the new objects; retrying in ${wait}`;
  return `Azure is busy; retrying in ${wait}`;
}

/** How withRetries classifies and waits. */
export interface RetryOptions {
  policy: EnginePolicy;
  classify: (error: unknown) => Classified;
  sleep: (ms: number) => Promise<void>;
  /** Called before each wait (progress for the stall bound, a label for the UI). */
  onWait?: (delayMs: number, c: Classified) => void;
  now?: () => number;
  /** Only these kinds are retried (planning retries only transient failures); by default every kind the budget retries. */
  only?: readonly Classified["kind"][];
}

/** `call`, tried again while the policy retries its failures; the last failure is rethrown as it was. */
export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const budget = retryBudget(options.policy, options.now);
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const c = options.classify(error);
      const delay = options.only && !options.only.includes(c.kind) ? null : budget.next(c);
      if (delay === null) throw error;
      noteRetry(c.kind, delay, "error" in c ? c.error.code : undefined);
      options.onWait?.(delay, c);
      await options.sleep(delay);
    }
  }
}

/** The class of a retry wait: a failure's classification, or verify disagreeing with apply. */
export type RetryClass = Classified["kind"] | "verify";

/** Logs and counts one retry wait of the job around it (its correlation fields come from the log context). */
export function noteRetry(retryClass: RetryClass, delayMs: number, code?: string): void {
  metrics().retries.inc({ class: retryClass });
  log().info(
    { event: "retry", class: retryClass, delayMs: Math.round(delayMs), ...(code ? { code } : {}) },
    `retry (${retryClass}) in ${Math.round(delayMs)} ms`,
  );
}

/** Waits ms milliseconds (the production sleep of retries). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
