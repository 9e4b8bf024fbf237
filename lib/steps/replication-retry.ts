// Retry one remote write that met Entra/ARM replication lag in place, on the engine's replication backoff.
import "server-only";
import { classifyAzureError } from "@/lib/azure/errors";
import type { StepContext } from "./types";

/**
 * The highest backoff step a retry waits on (the engine's 2 s base: 2 s, then 4 s between tries). A write that met
 * replication lag failed without effect, so one more try costs one request, while a late one holds back every step that
 * needs this one. With the engine's full doubling (2 → 30 s) the tries at Entra's ~20 s window land at about 0.5, 2.9,
 * 7.3, 15.6 and 31.9 s, so the service principal was created ~12 s after it could have been (bench, small, real-Azure
 * waits: app registration 34.3 s, run 37.2 s). No read announces the end of the window (reads of a new app succeed at
 * once; only the write is refused), so the write itself is the probe. The engine's time budget still ends the waiting.
 */
const BACKOFF_STEP_CAP = 2;

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
      if (
        classifyAzureError(error) !== "replication" ||
        !ctx.waitForReplication ||
        !(await ctx.waitForReplication(Math.min(tryNumber, BACKOFF_STEP_CAP)))
      )
        throw error;
    }
  }
}
