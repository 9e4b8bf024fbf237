// Register the customer's AKS audit-log access as a security device in the vendor's Workbench.
import "server-only";
import { z } from "zod";
import { AzureOperationError } from "@/lib/azure/errors";
import { workbenchRequest, type WorkbenchConfig } from "./client";

/** What Workbench needs to read the audit logs. */
export interface WorkbenchDeviceInput {
  name: string;
  description: string;
  tenantId: string;
  clientId: string;
  /** The app's client secret: sent in this one request body and nowhere else (never logged, never in errors). */
  clientSecret: string;
  storageAccounts: string[];
}

const createdSchema = z.object({ id: z.string().min(1), name: z.string() });

/** POST the device; answers its id. */
export async function registerWorkbenchDevice(config: WorkbenchConfig, input: WorkbenchDeviceInput): Promise<{ id: string; name: string }> {
  if (input.storageAccounts.length === 0) throw new AzureOperationError("invalid_request", "Workbench needs at least one storage account.");
  const created = await workbenchRequest(config, "POST", "", createdSchema, "register the security device in Workbench", {
    name: input.name,
    description: input.description,
    device_type: "Azure Kubernetes Service",
    credentials: { tenant_id: input.tenantId, client_id: input.clientId, client_secret: input.clientSecret },
    storage_accounts: input.storageAccounts,
  });
  if (!created)
    throw new AzureOperationError("unknown", "Workbench registered the device but returned no id. Check Workbench before retrying.");
  return created;
}
