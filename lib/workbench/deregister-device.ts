// Remove a security device from the vendor's Workbench.
import "server-only";
import { AzureOperationError } from "@/lib/azure/errors";
import { workbenchRequest, type WorkbenchConfig } from "./client";

/** DELETE the device; a device Workbench no longer knows (404) counts as removed. */
export async function deregisterWorkbenchDevice(config: WorkbenchConfig, deviceId: string): Promise<void> {
  try {
    await workbenchRequest(config, "DELETE", `/${encodeURIComponent(deviceId)}`, null, "remove the security device from Workbench");
  } catch (error) {
    if (error instanceof AzureOperationError && error.status === 404) return;
    throw error;
  }
}
