// Delete one storage account (and every blob in it).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { storageClient } from "./clients";

/** Delete the account; Azure answers 204 for an account that is already gone, which counts as deleted. */
export async function deleteStorageAccount(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
): Promise<void> {
  try {
    await storageClient(credential, subscriptionId).storageAccounts.delete(resourceGroup, name);
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return;
    throw toAzureError(error, {
      action: `delete the storage account ${name}`,
      requiredRole: "Storage Account Contributor, Contributor or Owner",
    });
  }
}
