// List the resources in a resource group (to delete a group only when nothing else is in it).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { resourcesClient } from "./clients";

/** A resource in a group. */
export interface GroupResource {
  id: string;
  name: string;
  type: string;
}

/** Top-level resources in the group, or null when the group doesn't exist. */
export async function listResourceGroupResources(
  credential: TokenCredential,
  subscriptionId: string,
  name: string,
): Promise<GroupResource[] | null> {
  try {
    const out: GroupResource[] = [];
    for await (const r of resourcesClient(credential, subscriptionId).resources.listByResourceGroup(name)) {
      out.push({ id: r.id ?? "", name: r.name ?? "", type: r.type ?? "" });
    }
    return out;
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return null;
    throw toAzureError(error, { action: `list the resources in ${name}`, requiredRole: "Reader" });
  }
}
