// Check whether a storage account name can be used (names are global across Azure).
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { storageClient } from "./provisioning-clients";

/** Whether a storage account name can be used, and why not. */
export type StorageNameCheck =
  | { available: true; reason: null; message: string }
  | { available: false; reason: "invalid" | "taken" | "unknown"; message: string };

const STORAGE_ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

/** Azure's naming rule, checked locally before asking ARM. */
export function isValidStorageAccountName(name: string): boolean {
  return STORAGE_ACCOUNT_NAME.test(name);
}

/** Whether `name` is free. "taken" also covers the customer's own account: read the account to tell them apart. */
export async function checkStorageAccountName(
  credential: TokenCredential,
  subscriptionId: string,
  name: string,
): Promise<StorageNameCheck> {
  if (!isValidStorageAccountName(name)) {
    return { available: false, reason: "invalid", message: "Use 3 to 24 characters: lowercase letters and digits only." };
  }
  try {
    const result = await storageClient(credential, subscriptionId).storageAccounts.checkNameAvailability({
      name,
      type: "Microsoft.Storage/storageAccounts",
    });
    if (result.nameAvailable) return { available: true, reason: null, message: "" };
    const reason = result.reason === "AccountNameInvalid" ? "invalid" : result.reason === "AlreadyExists" ? "taken" : "unknown";
    return { available: false, reason, message: result.message ?? "This name cannot be used." };
  } catch (error) {
    throw toAzureError(error, {
      action: "check the storage account name",
      requiredRole: "Reader (Microsoft.Storage/checknameavailability/read)",
    });
  }
}
