// Read one AKS cluster (used by verification with the vendor app's own credential).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { containerServiceClient } from "./clients";
import { toAzureError } from "./errors";

/** One cluster as read now: Entra integration decides what the vendor may be given there (role-assignments step). */
export interface ManagedClusterInfo {
  id: string;
  name: string;
  provisioningState: string | undefined;
  /** Microsoft Entra integration (aadProfile set). Without it a clusterUser kubeconfig is cluster-admin (AKS docs, control-kubeconfig-access). */
  entraIntegration: boolean;
  /** Azure RBAC for Kubernetes authorization: without it Kubernetes RBAC, not role dataActions, decides in-cluster reads. */
  azureRbac: boolean;
}

/** The cluster's id, provisioning state and authentication mode; throws AzureOperationError (forbidden, not_found, …). */
export async function getManagedCluster(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
): Promise<ManagedClusterInfo> {
  try {
    const c = await containerServiceClient(credential, subscriptionId).managedClusters.get(resourceGroup, name);
    return {
      id: c.id ?? "",
      name: c.name ?? name,
      provisioningState: c.provisioningState,
      entraIntegration: c.aadProfile != null,
      azureRbac: c.aadProfile?.enableAzureRbac ?? false,
    };
  } catch (error) {
    throw toAzureError(error, {
      action: `read the AKS cluster ${name}`,
      requiredRole: "the read-only AKS role (Microsoft.ContainerService/managedClusters/read)",
    });
  }
}
