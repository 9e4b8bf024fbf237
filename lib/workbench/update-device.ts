// Tell Workbench about a security device's new storage accounts, without sending (or needing) the client secret again.
import "server-only";
import { AzureOperationError } from "@/lib/azure/errors";
import { toWorkbenchDevice, workbenchDeviceSchema, type WorkbenchDevice } from "./list-devices";
import { workbenchRequest, type WorkbenchConfig } from "./client";

/** PATCH the device's storage account list; answers the device as Workbench stored it. */
export async function updateWorkbenchDeviceStorageAccounts(
  config: WorkbenchConfig,
  deviceId: string,
  storageAccounts: string[],
): Promise<WorkbenchDevice> {
  if (storageAccounts.length === 0) throw new AzureOperationError("invalid_request", "Workbench needs at least one storage account.");
  const updated = await workbenchRequest(
    config,
    "PATCH",
    `/${encodeURIComponent(deviceId)}`,
    workbenchDeviceSchema,
    "update the security device's storage accounts in Workbench",
    {
      storage_accounts: storageAccounts,
    },
  );
  if (!updated)
    throw new AzureOperationError("unknown", "Workbench accepted the update but returned no device. Check Workbench before retrying.");
  return toWorkbenchDevice(updated);
}
