// Replace the client secret a Workbench security device signs in with (secret rotation).
import "server-only";
import { z } from "zod";
import { AzureOperationError } from "@/lib/azure/errors";
import { toWorkbenchDevice, workbenchDeviceSchema, type WorkbenchDevice } from "./list-devices";
import { workbenchRequest, type WorkbenchConfig } from "./client";

/** The device's new credential. */
export interface WorkbenchCredentialUpdate {
  tenantId: string;
  clientId: string;
  /** The new client secret: sent in this one request body and nowhere else (never logged, never in errors). */
  clientSecret: string;
}

const idSchema = z.string().min(1).max(200);

/** PATCH the device's credentials; answers the device as Workbench now stores it (never the secret). */
export async function updateWorkbenchDeviceCredential(
  config: WorkbenchConfig,
  deviceId: string,
  input: WorkbenchCredentialUpdate,
): Promise<WorkbenchDevice> {
  if (!idSchema.safeParse(deviceId).success) throw new AzureOperationError("invalid_request", "The Workbench device id is not valid.");
  const device = await workbenchRequest(
    config,
    "PATCH",
    `/${encodeURIComponent(deviceId)}`,
    workbenchDeviceSchema,
    "give Workbench the new client secret",
    {
      credentials: { tenant_id: input.tenantId, client_id: input.clientId, client_secret: input.clientSecret },
    },
  );
  if (!device)
    throw new AzureOperationError(
      "unknown",
      "Workbench accepted the new secret but returned no device. Check the device in Workbench before retrying.",
    );
  return toWorkbenchDevice(device);
}
