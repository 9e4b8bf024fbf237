// Delete a resource group (a long-running operation; it deletes everything inside).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { resourcesClient } from "./clients";

/** Delete the group and wait for Azure to finish (202 + Location polling); a missing group counts as deleted. */
export async function deleteResourceGroup(credential: TokenCredential, subscriptionId: string, name: string): Promise<void> {
  try {
    await resourcesClient(credential, subscriptionId).resourceGroups.beginDeleteAndWait(name, { updateIntervalInMs: 500 });
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return;
    throw toAzureError(error, { action: `delete the resource group ${name}`, requiredRole: "Contributor or Owner on the resource group" });
  }
}
