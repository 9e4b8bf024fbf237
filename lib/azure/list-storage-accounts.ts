// List the storage accounts of one subscription (names, ids and blob endpoints).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { storageClient } from "./clients";

export interface StorageAccountSummary {
  id: string;
  name: string;
  blobEndpoint: string | undefined;
}

/** Every storage account in `subscriptionId`, sorted by name. */
export async function listStorageAccounts(credential: TokenCredential, subscriptionId: string): Promise<StorageAccountSummary[]> {
  try {
    const out: StorageAccountSummary[] = [];
    for await (const a of storageClient(credential, subscriptionId).storageAccounts.list()) {
      if (a.id && a.name) out.push({ id: a.id, name: a.name, blobEndpoint: a.primaryEndpoints?.blob });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    throw toAzureError(error, { action: "list the storage accounts in this subscription", requiredRole: "Reader" });
  }
}
