// Register a subscription for a resource provider and wait, bounded, until Azure reports it Registered.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { AzureOperationError, toAzureError } from "./errors";
import { getProviderRegistration, type ProviderRegistration } from "./get-provider-registration";
import { resourcesClient } from "./clients";

/** How long to wait for the registration. */
export interface RegisterProviderOptions {
  /** Give up after this long (registration usually takes 1–5 minutes in Azure). */
  timeoutMs?: number;
  pollIntervalMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registered state of `namespace`; registers first if needed. Throws provider_registering when the wait runs out. */
export async function registerProvider(
  credential: TokenCredential,
  subscriptionId: string,
  namespace: string,
  options: RegisterProviderOptions = {},
): Promise<ProviderRegistration> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const pollIntervalMs = options.pollIntervalMs ?? 3_000;
  const ctx = {
    action: `register ${namespace} in this subscription`,
    requiredRole: `Contributor or Owner (${namespace}/register/action)`,
  };
  const current = await getProviderRegistration(credential, subscriptionId, namespace);
  if (current.registered) return current;
  try {
    // register is idempotent: ARM answers with the current state ("Registering") right away.
    await resourcesClient(credential, subscriptionId).providers.register(namespace);
  } catch (error) {
    throw toAzureError(error, ctx);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await getProviderRegistration(credential, subscriptionId, namespace);
    if (state.registered) return state;
    if (Date.now() + pollIntervalMs > deadline) {
      throw new AzureOperationError(
        "provider_registering",
        `Azure is still registering ${namespace} in this subscription (state: ${state.state}). This can take a few minutes; retry shortly.`,
      );
    }
    await sleep(pollIntervalMs);
  }
}
