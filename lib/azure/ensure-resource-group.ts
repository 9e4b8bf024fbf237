// Get a resource group, or create it in the given region.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { resourcesClient } from "./clients";

/** A resource group, and whether this call created it. */
export interface ResourceGroupInfo {
  id: string;
  name: string;
  location: string;
  created: boolean;
}

/** The body of a new group: its region and the run's tags (an existing group is never re-PUT, so its tags stay the customer's). */
export function resourceGroupBody(
  location: string,
  tags: Record<string, string> | undefined,
): { location: string; tags?: Record<string, string> } {
  return { location, ...(tags && Object.keys(tags).length > 0 ? { tags } : {}) };
}

/** The group as it is; an existing group keeps its region and tags (we adopt it, we don't move it). */
export async function ensureResourceGroup(
  credential: TokenCredential,
  subscriptionId: string,
  name: string,
  location: string,
  tags?: Record<string, string>,
  /** The caller's own read in this execution found no such group: skip the GET. */
  options: { knownAbsent?: boolean } = {},
): Promise<ResourceGroupInfo> {
  const client = resourcesClient(credential, subscriptionId);
  if (!options.knownAbsent) {
    try {
      const existing = await client.resourceGroups.get(name);
      return { id: existing.id ?? "", name: existing.name ?? name, location: existing.location, created: false };
    } catch (error) {
      if ((error as { statusCode?: unknown } | null)?.statusCode !== 404) {
        throw toAzureError(error, { action: `read the resource group ${name}`, requiredRole: "Reader" });
      }
    }
  }
  try {
    const rg = await client.resourceGroups.createOrUpdate(name, resourceGroupBody(location, tags));
    return { id: rg.id ?? "", name: rg.name ?? name, location: rg.location, created: true };
  } catch (error) {
    throw toAzureError(error, { action: `create the resource group ${name}`, requiredRole: "Contributor or Owner on the subscription" });
  }
}
