// Ask AKS for a cluster's user kubeconfig as the vendor's app, only to learn whether it may: the kubeconfig is dropped.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { containerServiceClient } from "./clients";
import { toAzureError } from "./errors";

/** refused: ARM said 403 (no listClusterUserCredential/action on the cluster); allowed: a kubeconfig came back. */
export type CredentialProbe = { kind: "refused"; azureCode: string } | { kind: "allowed"; kubeconfigs: number };

/** POST …/listClusterUserCredential; anything but a 403 or a kubeconfig is thrown as AzureOperationError. */
export async function probeClusterUserCredential(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
): Promise<CredentialProbe> {
  try {
    const result = await containerServiceClient(credential, subscriptionId).managedClusters.listClusterUserCredentials(resourceGroup, name);
    // Never kept, logged or returned: on a cluster without Microsoft Entra integration it is a cluster-admin credential.
    return { kind: "allowed", kubeconfigs: result.kubeconfigs?.length ?? 0 };
  } catch (error) {
    const e = error as { statusCode?: number; code?: string };
    if (e.statusCode === 403) return { kind: "refused", azureCode: e.code ?? "AuthorizationFailed" };
    throw toAzureError(error, {
      action: `ask for the user credential of the AKS cluster ${name}`,
      requiredRole: "Reader on the cluster (to read it)",
    });
  }
}
