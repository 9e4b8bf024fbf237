// Bring an existing account's security settings to the baseline without touching its SKU, kind or firewall.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { toStorageAccountInfo, type StorageAccountInfo } from "./get-storage-account";
import { storageClient } from "./clients";

/** PATCH (not PUT) so an adopted account keeps its redundancy, tags and network rules. */
export async function updateStorageAccountSecurity(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
  minimumTlsVersion: "TLS1_2" | "TLS1_3" = "TLS1_2",
): Promise<StorageAccountInfo> {
  try {
    const account = await storageClient(credential, subscriptionId).storageAccounts.update(resourceGroup, name, {
      // arm-storage 20 only sends `properties` when minimumTlsVersion (or another property it checks) is set: keep it first.
      minimumTlsVersion,
      enableHttpsTrafficOnly: true,
      allowBlobPublicAccess: false,
      allowCrossTenantReplication: false,
    });
    return toStorageAccountInfo(account);
  } catch (error) {
    throw toAzureError(error, {
      action: `apply the secure settings to the storage account ${name}`,
      requiredRole: "Contributor or Storage Account Contributor",
    });
  }
}
