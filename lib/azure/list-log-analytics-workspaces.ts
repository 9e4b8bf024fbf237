// List the Log Analytics workspaces of one subscription (ARM Microsoft.OperationalInsights/workspaces) with their GUIDs.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { toAzureError } from "./errors";
import { resourcesClient } from "./clients";

export interface LogAnalyticsWorkspace {
  id: string;
  name: string;
  /** The workspace GUID the query API addresses. */
  customerId: string;
}

const WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces";
const API_VERSION = "2022-10-01";
const propertiesSchema = z.object({ customerId: z.string().min(1) });

/** Up to `limit` workspaces in `subscriptionId`, sorted by name (generic resource list, then a GET for the GUID). */
export async function listLogAnalyticsWorkspaces(
  credential: TokenCredential,
  subscriptionId: string,
  limit = 5,
): Promise<LogAnalyticsWorkspace[]> {
  const client = resourcesClient(credential, subscriptionId);
  try {
    const ids: { id: string; name: string }[] = [];
    for await (const r of client.resources.list({ filter: `resourceType eq '${WORKSPACE_TYPE}'` })) {
      if (r.id && r.name) ids.push({ id: r.id, name: r.name });
    }
    ids.sort((a, b) => a.name.localeCompare(b.name));
    const out: LogAnalyticsWorkspace[] = [];
    for (const w of ids.slice(0, limit)) {
      // The generic list omits properties; the workspace GET carries customerId.
      const full = await client.resources.getById(w.id, API_VERSION);
      const props = propertiesSchema.safeParse(full.properties);
      if (props.success) out.push({ ...w, customerId: props.data.customerId });
    }
    return out;
  } catch (error) {
    throw toAzureError(error, { action: "list the Log Analytics workspaces in this subscription", requiredRole: "Reader" });
  }
}
