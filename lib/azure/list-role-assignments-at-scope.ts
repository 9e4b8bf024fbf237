// List the role assignments that apply at a scope (assigned there or inherited from above).
import type { RoleAssignment } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient } from "./clients";
import { toAzureError } from "./errors";
import { sdkScope, subscriptionOf } from "./provisioning-clients";
import { roleGuid } from "./role-ids";

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

/** Assignments at `scope` and above it (atScope()), optionally only those of one principal. */
export async function listRoleAssignmentsAtScope(
  credential: TokenCredential,
  scope: string,
  principalId?: string,
): Promise<RoleAssignmentInfo[]> {
  const filter = principalId ? `atScope() and assignedTo('${principalId}')` : "atScope()";
  try {
    const out: RoleAssignmentInfo[] = [];
    const pages = authorizationClient(credential, subscriptionOf(scope)).roleAssignments.listForScope(sdkScope(scope), { filter });
    for await (const a of pages) out.push(toRoleAssignmentInfo(a));
    return out;
  } catch (error) {
    throw toAzureError(error, { action: "read the role assignments at this scope", requiredRole: "Reader" });
  }
}
