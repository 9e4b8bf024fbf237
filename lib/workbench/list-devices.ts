// List the security devices registered in the vendor's Workbench.
import "server-only";
import { z } from "zod";
import { workbenchRequest, type WorkbenchConfig } from "./client";

/** A security device as Workbench stores it (the secret is never returned, only a hint). */
export interface WorkbenchDevice {
  id: string;
  name: string;
  deviceType: string;
  tenantId: string | null;
  clientId: string | null;
  storageAccounts: string[];
  status: string | null;
}

/** A device as Workbench returns it (list items and GET by id). */
export const workbenchDeviceSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  device_type: z.string(),
  status: z.string().nullish(),
  credentials: z.object({ tenant_id: z.string().nullish(), client_id: z.string().nullish() }).nullish(),
  storage_accounts: z.array(z.string()).nullish(),
});
const listSchema = z.object({ items: z.array(workbenchDeviceSchema), count: z.number().optional() });

/** Workbench payload → domain type. */
export function toWorkbenchDevice(d: z.infer<typeof workbenchDeviceSchema>): WorkbenchDevice {
  return {
    id: d.id,
    name: d.name,
    deviceType: d.device_type,
    tenantId: d.credentials?.tenant_id ?? null,
    clientId: d.credentials?.client_id ?? null,
    storageAccounts: d.storage_accounts ?? [],
    status: d.status ?? null,
  };
}

/** Every device visible to the portal's API key. */
export async function listWorkbenchDevices(config: WorkbenchConfig): Promise<WorkbenchDevice[]> {
  const body = await workbenchRequest(config, "GET", "", listSchema, "list the Workbench security devices");
  return (body?.items ?? []).map(toWorkbenchDevice);
}
