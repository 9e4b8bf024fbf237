// Create or update the portal's custom role (e.g. read-only AKS access) across the monitored subscriptions.
import "server-only";
import type { RoleDefinition } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient, sdkScope, subscriptionOf } from "./clients";
import { AzureOperationError, toAzureError } from "./errors";
import { toCustomRoleDefinition, type CustomRoleDefinition, type RolePermission } from "./get-custom-role-definition";

/** What the custom role should be. */
export interface CustomRoleInput {
  /** Deterministic GUID (names.ts customRoleId): the same role is updated on every run. */
  roleId: string;
  roleName: string;
  description: string;
  permissions: RolePermission[];
  /** Subscriptions the role may be assigned in; adding one later is a PUT of the same id with more scopes. */
  subscriptionIds: string[];
}

/** The PUT body; assignableScopes are the subscriptions, sorted so re-runs send identical bodies. */
export function customRoleBody(input: CustomRoleInput): RoleDefinition {
  if (input.subscriptionIds.length === 0)
    throw new AzureOperationError("invalid_request", "The custom role needs at least one subscription.");
  return {
    roleName: input.roleName,
    description: input.description,
    roleType: "CustomRole",
    permissions: input.permissions.map((p) => ({
      actions: p.actions,
      notActions: p.notActions,
      dataActions: p.dataActions,
      notDataActions: p.notDataActions,
    })),
    assignableScopes: [...new Set(input.subscriptionIds.map((s) => s.toLowerCase()))].sort().map((s) => `/subscriptions/${s}`),
  };
}

/** PUT at the first assignable scope. Azure needs roleDefinitions/write on every assignable scope (Owner or User Access Administrator). */
export async function putCustomRoleDefinition(credential: TokenCredential, input: CustomRoleInput): Promise<CustomRoleDefinition> {
  const body = customRoleBody(input);
  const scope = body.assignableScopes?.[0] ?? "";
  try {
    const client = authorizationClient(credential, subscriptionOf(scope));
    const saved = await client.roleDefinitions.createOrUpdate(sdkScope(scope), input.roleId, body);
    return toCustomRoleDefinition(saved, input.roleId);
  } catch (error) {
    throw toAzureError(error, {
      action: `create the custom role "${input.roleName}"`,
      requiredRole: "Owner or User Access Administrator on every selected subscription",
    });
  }
}
