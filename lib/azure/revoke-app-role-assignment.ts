// Revoke one app role grant (admin consent to an application permission).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { graphClient, isGraphNotFound } from "./graph-client";

/** Delete grant `assignmentId` from the resource service principal's appRoleAssignedTo; an unknown one counts as revoked. */
export async function revokeAppRoleAssignment(
  credential: TokenCredential,
  resourceServicePrincipalId: string,
  assignmentId: string,
): Promise<void> {
  try {
    await graphClient(credential)
      .api(`/servicePrincipals/${encodeURIComponent(resourceServicePrincipalId)}/appRoleAssignedTo/${encodeURIComponent(assignmentId)}`)
      .delete();
  } catch (error) {
    if (isGraphNotFound(error)) return;
    throw toAzureError(error, {
      action: "revoke the vendor's Log Analytics permission",
      requiredRole: "Cloud Application Administrator or Application Administrator with AppRoleAssignment.ReadWrite.All",
      whoCanGrant: "a Global Administrator or Privileged Role Administrator",
    });
  }
}
