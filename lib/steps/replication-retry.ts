// Retry one remote write that met Entra/ARM replication lag in place, on the engine's replication backoff.
import "server-only";
import { classifyAzureError } from "@/lib/azure/errors";
import type { StepContext } from "./types";

/**
 * Run `attempt` (one ctx.write, so every try is logged) until it succeeds; a replication-class failure waits through
 * ctx.waitForReplication and tries again. Anything else, a spent budget, or a context without in-step waits (plan,
 * tests: their retry layer re-runs the step) rethrows. `attempt` receives the 1-based try number.
 */
export async function retryWriteOnReplication<T>(ctx: StepContext, attempt: (tryNumber: number) => Promise<T>): Promise<T> {
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      return await attempt(tryNumber);
    } catch (error) {
      if (classifyAzureError(error) !== "replication" || !ctx.waitForReplication || !(await ctx.waitForReplication(tryNumber))) throw error;
    }
  }
}
