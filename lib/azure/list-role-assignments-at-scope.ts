// List the role assignments that apply at a scope (assigned there or inherited from above).
import "server-only";
import type { RoleAssignment } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient, sdkScope, subscriptionOf } from "./clients";
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

/** Assignments at `scope` and above it (atScope()), optionally only those of one principal. */
export async function listRoleAssignmentsAtScope(
  credential: TokenCredential,
  scope: string,
  principalId?: string,
): Promise<RoleAssignmentInfo[]> {
  try {
    const out: RoleAssignmentInfo[] = [];
    // ARM documents atScope() and principalId filters separately, so the principal is filtered here.
    const pages = authorizationClient(credential, subscriptionOf(scope)).roleAssignments.listForScope(sdkScope(scope), {
      filter: "atScope()",
    });
    for await (const a of pages) {
      const info = toRoleAssignmentInfo(a);
      if (!principalId || info.principalId.toLowerCase() === principalId.toLowerCase()) out.push(info);
    }
    return out;
  } catch (error) {
    throw toAzureError(error, { action: "read the role assignments at this scope", requiredRole: "Reader" });
  }
}
