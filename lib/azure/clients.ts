// Official Azure SDK clients pointed at the configured ARM endpoint.
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import type { TokenCredential } from "@azure/core-auth";
import { env } from "@/lib/env";
import { armHttpsAgent } from "./http-agent";

function armScope(): string {
  return `${env().ARM_AUDIENCE}/.default`;
}

/** Subscriptions the caller can see. */
export function subscriptionClient(credential: TokenCredential): SubscriptionClient {
  return new SubscriptionClient(credential, { endpoint: env().ARM_ENDPOINT, agent: armHttpsAgent(), credentialScopes: [armScope()] });
}

/** AKS in one subscription. */
export function containerServiceClient(credential: TokenCredential, subscriptionId: string): ContainerServiceClient {
  return new ContainerServiceClient(credential, subscriptionId, {
    endpoint: env().ARM_ENDPOINT,
    agent: armHttpsAgent(),
    credentials: { scopes: [armScope()] },
  });
}

/** Role assignments and definitions in one subscription. */
export function authorizationClient(credential: TokenCredential, subscriptionId: string): AuthorizationManagementClient {
  // Without credentialScopes this client asks for a token for `<endpoint>/.default`.
  return new AuthorizationManagementClient(credential, subscriptionId, {
    endpoint: env().ARM_ENDPOINT,
    agent: armHttpsAgent(),
    credentialScopes: [armScope()],
  });
}
