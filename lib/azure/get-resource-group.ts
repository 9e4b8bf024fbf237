// Read a resource group without creating it (plans must not write).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { resourcesClient } from "./clients";

/** The group's id and region, or null when it does not exist. */
export async function getResourceGroup(
  credential: TokenCredential,
  subscriptionId: string,
  name: string,
): Promise<{ id: string; name: string; location: string } | null> {
  try {
    const rg = await resourcesClient(credential, subscriptionId).resourceGroups.get(name);
    return { id: rg.id ?? "", name: rg.name ?? name, location: rg.location };
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return null;
    throw toAzureError(error, { action: `read the resource group ${name}`, requiredRole: "Reader" });
  }
}
