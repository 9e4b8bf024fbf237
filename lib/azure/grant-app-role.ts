// Grant an application permission (admin consent): assign a resource's app role to a service principal.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { AzureOperationError, toAzureError } from "./errors";
import { graphClient } from "./graph-client";
import { listAppRoleAssignments, toAppRoleAssignmentInfo, type AppRoleAssignmentInfo } from "./list-app-role-assignments";

/** Which app role of which resource goes to which service principal. */
export interface GrantAppRoleInput {
  /** Object id of the resource's service principal (e.g. Log Analytics API in this tenant). */
  resourceServicePrincipalId: string;
  /** Object id of the service principal receiving the role (the vendor's). */
  principalId: string;
  appRoleId: string;
}

function matches(a: AppRoleAssignmentInfo, input: GrantAppRoleInput): boolean {
  const same = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  return (
    same(a.principalId, input.principalId) && same(a.resourceId, input.resourceServicePrincipalId) && same(a.appRoleId, input.appRoleId)
  );
}

/** The grant; an existing identical grant is returned as is (Graph refuses duplicates with a 400). */
export async function grantAppRole(credential: TokenCredential, input: GrantAppRoleInput): Promise<AppRoleAssignmentInfo> {
  try {
    const body: unknown = await graphClient(credential)
      .api(`/servicePrincipals/${encodeURIComponent(input.resourceServicePrincipalId)}/appRoleAssignedTo`)
      .post({ principalId: input.principalId, resourceId: input.resourceServicePrincipalId, appRoleId: input.appRoleId });
    return toAppRoleAssignmentInfo(body);
  } catch (error) {
    const mapped = toAzureError(error, {
      action: "grant admin consent for the vendor app's Log Analytics permission",
      requiredRole: "Cloud Application Administrator or Application Administrator",
      whoCanGrant: "a Global Administrator or Privileged Role Administrator",
    });
    if (mapped.code !== "already_exists") throw mapped;
  }
  // "Permission being assigned already exists on the object": verify it is exactly our grant, then it's done.
  const existing = (await listAppRoleAssignments(credential, input.principalId, "principal")).find((a) => matches(a, input));
  if (!existing)
    throw new AzureOperationError(
      "conflict",
      "Entra ID reports the permission as already granted but does not list the grant. Retry in a moment.",
    );
  return existing;
}
