// Check whether a storage account name can be used (names are global across Azure).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { AzureOperationError, toAzureError } from "./errors";
import { storageClient } from "./clients";

/** Whether a storage account name can be used, and why not. */
export type StorageNameCheck =
  { available: true; reason: null; message: string } | { available: false; reason: "invalid" | "taken" | "unknown"; message: string };

const STORAGE_ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

/** Azure's naming rule, checked locally before asking ARM. */
export function isValidStorageAccountName(name: string): boolean {
  return STORAGE_ACCOUNT_NAME.test(name);
}

/**
 * The error a failed name check becomes. A subscription that has not registered Microsoft.Storage answers the check
 * 404 SubscriptionNotFound (hashicorp/terraform-provider-azurerm#24104, Azure/azure-cli#29267 and #30550,
 * microsoft/vscode-azurefunctions#3269), or 409 MissingSubscriptionRegistration: both mean "not registered", never "deleted".
 */
export function nameCheckError(error: unknown): AzureOperationError {
  const e = error as { statusCode?: unknown; code?: unknown } | null;
  const unregistered =
    (e?.statusCode === 404 && (e.code === "SubscriptionNotFound" || e.code === undefined || e.code === null)) ||
    e?.code === "MissingSubscriptionRegistration";
  if (unregistered) {
    return new AzureOperationError(
      "provider_not_registered",
      "This subscription is not registered for Microsoft.Storage, so Azure can't check storage account names in it yet. Registering Microsoft.Storage (an Owner or Contributor can; the onboarding plan does it) lets Azure check the name.",
      typeof e?.code === "string" ? e.code : undefined,
      typeof e?.statusCode === "number" ? e.statusCode : undefined,
    );
  }
  return toAzureError(error, {
    action: "check the storage account name",
    requiredRole: "Reader (Microsoft.Storage/checknameavailability/read)",
  });
}

/**
 * Whether `name` is free. "taken" also covers the customer's own account: read the account to tell them apart.
 * Throws provider_not_registered when `subscriptionId` can't answer yet (Microsoft.Storage unregistered).
 */
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
    throw nameCheckError(error);
  }
}
