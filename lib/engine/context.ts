// Builds the StepContext a step runs with: logged writes, lease-bound progress, sealed secrets, earlier outputs.
import "server-only";
import { encryptionKey } from "@/lib/auth/keys";
import { decrypt, encrypt } from "@/lib/crypto";
import {
  deleteRunSecret,
  getRunSecret,
  lastSucceeded,
  LeaseLostError,
  putRunSecret,
  setStepProgress,
  stepLease,
  type StepRun,
} from "@/lib/db";
import type { RunConfig } from "@/lib/steps/config";
import { needsOf, type StepId } from "@/lib/steps/registry";
import type { StepContext, StepProgressUpdate } from "@/lib/steps/types";
import { DatabaseError } from "./policy";
import { credentialFor, type TokenProvider, type TokenUnavailableError } from "@/lib/auth/tokens";
import { writeAhead } from "./write-ahead";

/** Who acts: the signed-in admin whose delegated token the step uses. */
export interface Actor {
  userId: string | null;
  upn: string;
}

/** Everything buildStepContext needs; `leaseOwner` is the execution holding the step's lease. */
export interface StepContextInput {
  runId: string;
  tenantId: string;
  stepId: StepId;
  actor: Actor;
  config: RunConfig;
  tokens: TokenProvider;
  leaseOwner: string;
  /** The run's steps as loaded: done ones contribute their outputs. */
  steps: readonly StepRun[];
  /** Called when the step makes progress: a write starts or ends, a progress report. */
  onProgress?: () => void;
  /** False once the execution lost its lease or stalled: writes stop before they are logged. */
  live?: () => boolean;
}

/** What the engine learns while a step uses its context. */
export interface ContextObserver {
  /** The last token failure, even when an SDK wrapped the error it caused. */
  tokenFailure?: TokenUnavailableError;
  /** When a create last succeeded (ms since epoch). */
  lastCreateAt?: number;
  /** Remote writes that succeeded: progress between two failed attempts. */
  writesSucceeded: number;
  lastProgress?: StepProgressUpdate;
}

/** The secret's AAD: a sealed value can't be moved to another run or kind and still decrypt. */
export function secretAad(runId: string, kind: string): string {
  return `run-secret:${runId}:${kind}`;
}

/** Minimum time between two progress writes of one step (the first, the last and 0/N always go through). */
export const PROGRESS_INTERVAL_MS = 500;

/** The context for one execution of one step, and what the engine observes through it. */
export function buildStepContext(input: StepContextInput): { ctx: StepContext; observer: ContextObserver } {
  const { runId, tenantId, stepId, actor, leaseOwner } = input;
  const touch = input.onProgress ?? (() => {});
  const observer: ContextObserver = { writesSucceeded: 0 };
  let lastProgressWrite = 0;
  let pendingProgress: StepProgressUpdate | undefined;
  let trailingProgress: ReturnType<typeof setTimeout> | undefined;
  // Progress writes go one after another, so a late trailing write can't land after a newer one.
  let progressChain: Promise<unknown> = Promise.resolve();
  const writeProgress = (update: StepProgressUpdate): Promise<boolean> => {
    lastProgressWrite = Date.now();
    const write = progressChain.then(() => database(() => setStepProgress(runId, stepId, leaseOwner, update)));
    progressChain = write.catch(() => false);
    return write;
  };
  const onTokenFailure = (error: TokenUnavailableError) => {
    observer.tokenFailure = error;
  };

  const ctx: StepContext = {
    runId,
    tenantId,
    actorUpn: actor.upn,
    config: input.config,
    arm: credentialFor(input.tokens, "arm", onTokenFailure),
    graph: credentialFor(input.tokens, "graph", onTokenFailure),
    // Only what the step needs (STEP_NEEDS): a step can't come to depend on a neighbour that merely happened to finish first.
    outputs: outputsOf(input.steps.filter((s) => (needsOf(stepId) as readonly string[]).includes(s.stepId))),

    // Throws LeaseLostError (nothing logged) once another execution owns the step: no remote write after that.
    write: writeAhead({
      lease: stepLease(runId, stepId),
      owner: leaseOwner,
      tenantId,
      actor,
      touch,
      ...(input.live ? { live: input.live } : {}),
      database,
      onSucceeded(op) {
        observer.writesSucceeded += 1;
        if (op.kind === "create") observer.lastCreateAt = Date.now();
      },
    }),

    async progress(update) {
      touch();
      observer.lastProgress = update;
      // A step may report per item (400 clusters); the page polls every few seconds, so one row update per interval is
      // plenty. A skipped update is written at the interval's end unless a newer one went first: progress never sticks.
      const now = Date.now();
      if (update.done < update.total && update.done > 0 && now - lastProgressWrite < PROGRESS_INTERVAL_MS) {
        pendingProgress = update;
        trailingProgress ??= setTimeout(
          () => {
            trailingProgress = undefined;
            const latest = pendingProgress;
            pendingProgress = undefined;
            // A lost lease shows at the step's next write or progress call; a timer has no one to tell.
            if (latest) void writeProgress(latest);
          },
          lastProgressWrite + PROGRESS_INTERVAL_MS - now,
        );
        return;
      }
      pendingProgress = undefined;
      clearTimeout(trailingProgress);
      trailingProgress = undefined;
      if (!(await writeProgress(update))) throw new LeaseLostError(runId, stepId);
    },

    async wroteBefore(key) {
      return (await database(() => lastSucceeded(runId, key))) !== null;
    },

    secrets: {
      async put(kind, value, meta) {
        // keyId is the step's (Entra's credential id, to remove it later); one ENCRYPTION_KEY seals every secret.
        const ciphertext = encrypt(value, encryptionKey(), secretAad(runId, kind));
        await database(() => putRunSecret({ runId, kind, ciphertext, keyId: meta.keyId, hint: meta.hint, expiresAt: meta.expiresAt }));
      },
      async get(kind) {
        const sealed = await database(() => getRunSecret(runId, kind));
        if (!sealed) return null;
        return {
          value: decrypt(sealed.ciphertext, encryptionKey(), secretAad(runId, kind)),
          keyId: sealed.keyId,
          hint: sealed.hint,
          expiresAt: sealed.expiresAt,
        };
      },
      async delete(kind) {
        await database(() => deleteRunSecret(runId, kind));
      },
    },
  };
  return { ctx, observer };
}

/** A database call of a step's context: its failure is the engine's, never the step's (see DatabaseError). */
async function database<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof LeaseLostError) throw error;
    throw new DatabaseError(error);
  }
}

/** Outputs of the run's done steps, by step id. */
export function outputsOf(steps: readonly StepRun[]): Partial<Record<StepId, unknown>> {
  const outputs: Partial<Record<StepId, unknown>> = {};
  for (const step of steps) {
    if (step.status === "done" && step.outputs !== null) outputs[step.stepId as StepId] = step.outputs;
  }
  return outputs;
}
