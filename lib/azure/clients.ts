// Official Azure SDK clients pointed at the configured ARM endpoint.
import "server-only";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import type { TokenCredential } from "@azure/core-auth";
import { env } from "@/lib/env";
import { armHttpsAgent } from "./http-agent";
import { timeoutPolicies } from "./timeouts";

function armScope(): string {
  return `${env().ARM_AUDIENCE}/.default`;
}

/** What every ARM client shares: the configured endpoint, the kept-alive agent and the per-request time limit. */
export function armClientOptions() {
  return { endpoint: env().ARM_ENDPOINT, agent: armHttpsAgent(), additionalPolicies: timeoutPolicies() };
}

/** Subscriptions the caller can see. */
export function subscriptionClient(credential: TokenCredential): SubscriptionClient {
  return new SubscriptionClient(credential, { ...armClientOptions(), credentialScopes: [armScope()] });
}

/** AKS in one subscription. */
export function containerServiceClient(credential: TokenCredential, subscriptionId: string): ContainerServiceClient {
  return new ContainerServiceClient(credential, subscriptionId, { ...armClientOptions(), credentials: { scopes: [armScope()] } });
}

/** Role assignments and definitions in one subscription. */
export function authorizationClient(credential: TokenCredential, subscriptionId: string): AuthorizationManagementClient {
  // Without credentialScopes this client asks for a token for `<endpoint>/.default`.
  return new AuthorizationManagementClient(credential, subscriptionId, { ...armClientOptions(), credentialScopes: [armScope()] });
}
