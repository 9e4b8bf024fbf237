// The engine's retry policy, as the step tests need it: retry transient and replication failures, stop on permanent ones.
import { classifyAzureError, type AzureErrorClass } from "../../../lib/azure/errors";
import type { StepContext, StepModule } from "../../../lib/steps/types";
import { sleep } from "../azure/support";

/** Run `fn` until it succeeds; returns its result and the classes of the failures retried on the way. */
export async function withRetries<T>(fn: () => Promise<T>, attempts = 60): Promise<{ result: T; retried: AzureErrorClass[] }> {
  const retried: AzureErrorClass[] = [];
  for (let i = 0; ; i++) {
    try {
      return { result: await fn(), retried };
    } catch (error) {
      const kind = classifyAzureError(error);
      if (kind === "permanent" || i >= attempts) throw error;
      retried.push(kind);
      await sleep(kind === "replication" ? 250 : 50);
    }
  }
}

/** read → apply, retried like the engine does (a fresh read on every attempt). */
export async function applyWithRetries<L, O>(step: StepModule<L, O>, ctx: StepContext) {
  return withRetries(async () => step.apply(ctx, await step.read(ctx)));
}
