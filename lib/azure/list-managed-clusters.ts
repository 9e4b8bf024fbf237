// List the AKS clusters of one subscription.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { containerServiceClient } from "./clients";
import { toAzureError } from "./errors";

export interface ManagedCluster {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  kubernetesVersion: string | undefined;
  /** Azure RBAC for Kubernetes authorization: the custom role's DataActions only apply when on. */
  azureRbac: boolean;
  /** Microsoft Entra integration (aadProfile set). Without it a clusterUser kubeconfig is cluster-admin (AKS docs, control-kubeconfig-access). */
  entraIntegration: boolean;
  powerState: string | undefined;
}

/** Parse the resource group out of an ARM id (case-insensitive segment name). */
export function resourceGroupOf(id: string): string {
  const match = /\/resourcegroups\/([^/]+)/i.exec(id);
  return match?.[1] ?? "";
}

/** AKS clusters in `subscriptionId`, sorted by region then name. */
export async function listManagedClusters(credential: TokenCredential, subscriptionId: string): Promise<ManagedCluster[]> {
  try {
    const out: ManagedCluster[] = [];
    for await (const c of containerServiceClient(credential, subscriptionId).managedClusters.list()) {
      if (!c.id || !c.name) continue;
      out.push({
        id: c.id,
        name: c.name,
        resourceGroup: resourceGroupOf(c.id),
        location: c.location,
        kubernetesVersion: c.currentKubernetesVersion ?? c.kubernetesVersion,
        azureRbac: c.aadProfile?.enableAzureRbac ?? false,
        entraIntegration: c.aadProfile != null,
        powerState: c.powerState?.code,
      });
    }
    return out.sort((a, b) => a.location.localeCompare(b.location) || a.name.localeCompare(b.name));
  } catch (error) {
    throw toAzureError(error, {
      action: "list the AKS clusters in this subscription",
      requiredRole: "Reader (Microsoft.ContainerService/managedClusters/read)",
    });
  }
}
