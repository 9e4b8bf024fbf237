// Read one storage account's security-relevant properties.
import "server-only";
import type { StorageAccount } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { storageClient } from "./clients";

/** A storage account's security-relevant state. */
export interface StorageAccountInfo {
  id: string;
  name: string;
  location: string;
  kind: string;
  sku: string;
  isHnsEnabled: boolean;
  httpsOnly: boolean;
  minTls: string;
  allowBlobPublicAccess: boolean;
  allowCrossTenantReplication: boolean;
  networkRules: { defaultAction: "Allow" | "Deny"; bypass: string; ipRules: string[] };
  blobEndpoint: string | undefined;
  provisioningState: string;
}

/** SDK account → domain type. Absent booleans take Azure's defaults for new accounts, except public access (assume the worst). */
export function toStorageAccountInfo(a: StorageAccount): StorageAccountInfo {
  return {
    id: a.id ?? "",
    name: a.name ?? "",
    location: a.location,
    kind: a.kind ?? "",
    sku: a.sku?.name ?? "",
    isHnsEnabled: a.isHnsEnabled ?? false,
    httpsOnly: a.enableHttpsTrafficOnly ?? true,
    minTls: a.minimumTlsVersion ?? "",
    allowBlobPublicAccess: a.allowBlobPublicAccess ?? true,
    allowCrossTenantReplication: a.allowCrossTenantReplication ?? false,
    networkRules: {
      defaultAction: a.networkRuleSet?.defaultAction ?? "Allow",
      bypass: a.networkRuleSet?.bypass ?? "AzureServices",
      ipRules: (a.networkRuleSet?.ipRules ?? []).map((r) => r.iPAddressOrRange),
    },
    blobEndpoint: a.primaryEndpoints?.blob,
    provisioningState: a.provisioningState ?? "Unknown",
  };
}

/** The account, or null when it (or its resource group) does not exist. */
export async function getStorageAccount(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
): Promise<StorageAccountInfo | null> {
  try {
    const account = await storageClient(credential, subscriptionId).storageAccounts.getProperties(resourceGroup, name);
    return toStorageAccountInfo(account);
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return null;
    throw toAzureError(error, { action: `read the storage account ${name}`, requiredRole: "Reader" });
  }
}
