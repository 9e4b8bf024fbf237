// Delete a storage account's lifecycle management policy.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { storageClient } from "./clients";

/** Delete the account's "default" policy; a missing policy or account counts as deleted. */
export async function deleteManagementPolicy(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  accountName: string,
): Promise<void> {
  try {
    await storageClient(credential, subscriptionId).managementPolicies.delete(resourceGroup, accountName, "default");
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return;
    throw toAzureError(error, {
      action: `delete the lifecycle policy of ${accountName}`,
      requiredRole: "Storage Account Contributor, Contributor or Owner",
    });
  }
}
