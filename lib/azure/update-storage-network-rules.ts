// Open the storage firewall, or restrict it to the vendor's IPs, on an existing account.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { storageNetworkRules } from "./create-storage-account";
import { toAzureError } from "./errors";
import { toStorageAccountInfo, type StorageAccountInfo } from "./get-storage-account";
import { storageClient } from "./clients";

/** Replace the account's IP rules: `allowedIps` undefined opens it, a list restricts it (keeping the trusted-services bypass). */
export async function updateStorageNetworkRules(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
  allowedIps: string[] | undefined,
): Promise<StorageAccountInfo> {
  try {
    const account = await storageClient(credential, subscriptionId).storageAccounts.update(resourceGroup, name, {
      networkRuleSet: storageNetworkRules(allowedIps),
      // arm-storage 20 drops the whole `properties` object unless one of the properties it checks is set;
      // networkRuleSet alone is silently not sent. minimumTlsVersion is in our baseline anyway.
      minimumTlsVersion: "TLS1_2",
    });
    return toStorageAccountInfo(account);
  } catch (error) {
    throw toAzureError(error, {
      action: `change the network rules of the storage account ${name}`,
      requiredRole: "Contributor or Storage Account Contributor",
    });
  }
}
