// Delete a service principal (its app role grants go with it).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { graphClient, isGraphNotFound } from "./graph-client";

/** Delete the service principal by object id; an unknown one counts as deleted. */
export async function deleteServicePrincipal(credential: TokenCredential, servicePrincipalId: string): Promise<void> {
  try {
    await graphClient(credential)
      .api(`/servicePrincipals/${encodeURIComponent(servicePrincipalId)}`)
      .delete();
  } catch (error) {
    if (isGraphNotFound(error)) return;
    throw toAzureError(error, {
      action: "delete the vendor's service principal",
      requiredRole: "Application Administrator or Cloud Application Administrator",
      whoCanGrant: "a Global Administrator or Privileged Role Administrator",
    });
  }
}
