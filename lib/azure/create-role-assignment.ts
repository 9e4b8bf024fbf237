// Assign a role to the vendor's service principal at a scope, optionally with an ABAC condition.
import "server-only";
import type { RoleAssignmentCreateParameters } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient, sdkScope, subscriptionOf } from "./clients";
import { toAzureError } from "./errors";
import { toRoleAssignmentInfo, type RoleAssignmentInfo } from "./list-principal-assignments";
import { roleAssignmentName } from "./names";
import { CONDITION_VERSION, roleGuid } from "./role-ids";

/** The assignment to make. */
export interface CreateRoleAssignmentInput {
  scope: string;
  /** A role GUID or a full role definition id. */
  roleDefinitionId: string;
  /** The service principal's object id (not its appId). */
  principalId: string;
  /** ABAC condition gating the role's DataActions; sent with CONDITION_VERSION. */
  condition?: string;
  description?: string;
  /** Defaults to the deterministic name of (scope, principal, role). */
  name?: string;
}

/** Full role definition id in the scope's subscription. */
export function fullRoleDefinitionId(scope: string, roleDefinitionId: string): string {
  if (roleDefinitionId.includes("/")) return roleDefinitionId;
  return `/subscriptions/${subscriptionOf(scope)}/providers/Microsoft.Authorization/roleDefinitions/${roleDefinitionId.toLowerCase()}`;
}

/** The PUT body. */
export function roleAssignmentBody(input: CreateRoleAssignmentInput): RoleAssignmentCreateParameters {
  return {
    roleDefinitionId: fullRoleDefinitionId(input.scope, input.roleDefinitionId),
    principalId: input.principalId,
    // With principalType set, ARM skips its directory lookup, so a service principal created seconds ago can be assigned.
    principalType: "ServicePrincipal",
    ...(input.description ? { description: input.description } : {}),
    ...(input.condition ? { condition: input.condition, conditionVersion: CONDITION_VERSION } : {}),
  };
}

/**
 * Create (or re-apply) the assignment under its deterministic name. Throws role_assignment_exists when the same
 * principal/role/scope is already assigned under another name: callers verify with listPrincipalAssignmentsInSubscription and
 * treat it as done.
 */
export async function createRoleAssignment(credential: TokenCredential, input: CreateRoleAssignmentInput): Promise<RoleAssignmentInfo> {
  const name = input.name ?? roleAssignmentName(input.scope, input.principalId, roleGuid(input.roleDefinitionId));
  try {
    const client = authorizationClient(credential, subscriptionOf(input.scope));
    const saved = await client.roleAssignments.create(sdkScope(input.scope), name, roleAssignmentBody(input));
    return toRoleAssignmentInfo(saved);
  } catch (error) {
    throw toAzureError(error, {
      action: "assign the role to the vendor's service principal",
      requiredRole: "Owner, User Access Administrator or Role Based Access Control Administrator",
    });
  }
}
