// List the subscriptions the signed-in admin can see.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { subscriptionClient } from "./clients";
import { toAzureError } from "./errors";

export interface Subscription {
  id: string;
  displayName: string;
  state: string;
  tenantId: string | undefined;
}

/** Enabled and disabled subscriptions visible to the caller, sorted by name. */
export async function listSubscriptions(credential: TokenCredential): Promise<Subscription[]> {
  try {
    const out: Subscription[] = [];
    for await (const s of subscriptionClient(credential).subscriptions.list()) {
      if (!s.subscriptionId) continue;
      out.push({
        id: s.subscriptionId,
        displayName: s.displayName ?? s.subscriptionId,
        state: s.state ?? "Unknown",
        tenantId: s.tenantId,
      });
    }
    return out.sort((a, b) => a.displayName.localeCompare(b.displayName));
  } catch (error) {
    throw toAzureError(error, { action: "list your Azure subscriptions", requiredRole: "at least Reader on a subscription" });
  }
}
