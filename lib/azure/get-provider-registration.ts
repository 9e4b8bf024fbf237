// Read whether a subscription is registered for a resource provider (Microsoft.Storage, Microsoft.Insights).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { resourcesClient } from "./clients";

/** A resource provider's registration in one subscription. */
export interface ProviderRegistration {
  namespace: string;
  /** "Registered", "NotRegistered", "Registering", "Unregistering", … as ARM reports it. */
  state: string;
  registered: boolean;
}

/** The provider's registration state in `subscriptionId`. */
export async function getProviderRegistration(
  credential: TokenCredential,
  subscriptionId: string,
  namespace: string,
): Promise<ProviderRegistration> {
  try {
    const p = await resourcesClient(credential, subscriptionId).providers.get(namespace);
    const state = p.registrationState ?? "Unknown";
    return { namespace: p.namespace ?? namespace, state, registered: state.toLowerCase() === "registered" };
  } catch (error) {
    throw toAzureError(error, { action: `read the ${namespace} registration of this subscription`, requiredRole: "Reader" });
  }
}
