// List the role assignments made to one principal in a subscription, at, above or below it.
import "server-only";
import type { RoleAssignment } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient, sdkScope } from "./clients";
import { toAzureError } from "./errors";
import { roleGuid } from "./role-ids";

/** A role assignment with its optional ABAC condition. */
export interface RoleAssignmentInfo {
  id: string;
  /** The assignment's GUID name. */
  name: string;
  scope: string;
  principalId: string;
  principalType: string;
  roleDefinitionId: string;
  roleDefinitionGuid: string;
  condition: string | null;
  conditionVersion: string | null;
}

/** SDK assignment → domain type. */
export function toRoleAssignmentInfo(a: RoleAssignment): RoleAssignmentInfo {
  const roleDefinitionId = a.roleDefinitionId ?? "";
  return {
    id: a.id ?? "",
    name: a.name ?? "",
    scope: a.scope ?? "",
    principalId: a.principalId ?? "",
    principalType: a.principalType ?? "",
    roleDefinitionId,
    roleDefinitionGuid: roleGuid(roleDefinitionId),
    condition: a.condition ?? null,
    conditionVersion: a.conditionVersion ?? null,
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every assignment made directly to `principalId` in a subscription, at it, above it or below it, in one list: ARM's
 * `principalId eq` filter spans the scopes under the one listed ("Role Assignments - List For Scope",
 * https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope). One principal has a handful of
 * assignments, where atScope() at each of its scopes pages through every principal's subscription-wide ones.
 */
export async function listPrincipalAssignmentsInSubscription(
  credential: TokenCredential,
  subscriptionId: string,
  principalId: string,
): Promise<RoleAssignmentInfo[]> {
  // The id goes into an OData filter: anything but an object id is refused before a request is made.
  if (!GUID.test(principalId)) throw new TypeError("principalId must be an object id (GUID)");
  try {
    const out: RoleAssignmentInfo[] = [];
    const pages = authorizationClient(credential, subscriptionId).roleAssignments.listForScope(
      sdkScope(`/subscriptions/${subscriptionId}`),
      {
        filter: `principalId eq '${principalId}'`,
      },
    );
    for await (const a of pages) {
      const info = toRoleAssignmentInfo(a);
      // Assignments made to a group the principal is in are not the portal's to manage.
      if (info.principalId.toLowerCase() === principalId.toLowerCase()) out.push(info);
    }
    return out;
  } catch (error) {
    throw toAzureError(error, { action: "read the vendor's role assignments in this subscription", requiredRole: "Reader" });
  }
}
