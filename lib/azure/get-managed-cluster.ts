// Read one AKS cluster (used by verification with the vendor app's own credential).
import type { TokenCredential } from "@azure/core-auth";
import { containerServiceClient } from "./clients";
import { toAzureError } from "./errors";

/** The cluster's id and provisioning state; throws AzureOperationError (forbidden, not_found, …). */
export async function getManagedCluster(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
): Promise<{ id: string; name: string; provisioningState: string | undefined }> {
  try {
    const c = await containerServiceClient(credential, subscriptionId).managedClusters.get(resourceGroup, name);
    return { id: c.id ?? "", name: c.name ?? name, provisioningState: c.provisioningState };
  } catch (error) {
    throw toAzureError(error, { action: `read the AKS cluster ${name}`, requiredRole: "the read-only AKS role (Microsoft.ContainerService/managedClusters/read)" });
  }
}
