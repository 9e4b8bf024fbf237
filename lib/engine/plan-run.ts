// Plans a run: reads every step's live state and says what it would change, without writing anything.
import "server-only";
import type { StepError } from "@/lib/db";
import type { RunConfig } from "@/lib/steps/config";
import { STEP_IDS, type StepId } from "@/lib/steps/registry";
import type { PlannedChange, StepContext } from "@/lib/steps/types";
import { outputsOf } from "./context";
import type { EngineOptions, StepModules } from "./execute-step";
import { classifyFailure, DEFAULT_POLICY, sleep as realSleep, withRetries, type EnginePolicy } from "./policy";
import { credentialFor, type TokenProvider, type TokenUnavailableError } from "@/lib/auth/tokens";

/** One step's part of a plan; `error` when its live state couldn't be read (changes is then empty). */
export interface PlannedStep {
  stepId: StepId;
  changes: PlannedChange[];
  error?: StepError;
}

/** What planRun needs; runId (when the run exists) lets steps derive the same names the apply will use. */
export interface PlanRunInput extends EngineOptions {
  config: RunConfig;
  tenantId: string;
  tokens: TokenProvider;
  modules: StepModules;
  runId?: string;
  actorUpn?: string;
}

/** Read every step's live state and plan it, in run order, without writing anything. Never rejects on Azure errors. */
export async function planRun(input: PlanRunInput): Promise<PlannedStep[]> {
  const policy: EnginePolicy = { ...DEFAULT_POLICY, ...input.policy };
  const sleep = input.sleep ?? realSleep;
  const planned: PlannedStep[] = [];
  for (const stepId of STEP_IDS) {
    const stepModule = input.modules[stepId];
    const state: { tokenFailure?: TokenUnavailableError } = {};
    const ctx = readOnlyContext(input, (error) => {
      state.tokenFailure = error;
    });
    const classify = (error: unknown) =>
      classifyFailure(error, {
        action: `read what "${stepId}" would change`,
        createdRecently: false,
        ...(state.tokenFailure ? { tokenFailure: state.tokenFailure } : {}),
      });
    try {
      const changes = await withRetries(
        async () => {
          state.tokenFailure = undefined;
          return stepModule.plan(ctx, await stepModule.read(ctx));
        },
        { policy, classify, sleep, only: ["transient"], ...(input.now ? { now: input.now } : {}) },
      );
      planned.push({ stepId, changes });
    } catch (error) {
      const c = classify(error);
      planned.push({
        stepId,
        changes: [],
        error: c.kind === "lease_lost" ? { code: "unknown", message: "Planning was interrupted." } : c.error,
      });
    }
  }
  return planned;
}

// Planning happens before the admin approved anything: any attempt to write is a bug in a step, refused loudly.
function readOnlyContext(input: PlanRunInput, onTokenFailure: (error: TokenUnavailableError) => void): StepContext {
  const refuse = (what: string) => () => Promise.reject(new Error(`A step tried to ${what} while planning; planning only reads.`));
  return {
    runId: input.runId ?? "plan-preview",
    tenantId: input.tenantId,
    actorUpn: input.actorUpn ?? "",
    config: input.config,
    arm: credentialFor(input.tokens, "arm", onTokenFailure),
    graph: credentialFor(input.tokens, "graph", onTokenFailure),
    outputs: outputsOf([]),
    write: refuse("write to Azure"),
    progress: () => Promise.resolve(),
    wroteBefore: () => Promise.resolve(false),
    secrets: { put: refuse("store a secret"), get: () => Promise.resolve(null), delete: refuse("delete a secret") },
  };
}
