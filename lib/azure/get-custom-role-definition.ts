// Read a role definition (custom or built-in) by its GUID at a scope.
import "server-only";
import type { RoleDefinition } from "@azure/arm-authorization";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient, sdkScope, subscriptionOf } from "./clients";
import { toAzureError } from "./errors";

/** One permission block of a role definition. */
export interface RolePermission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

/** A role definition as stored in Azure. */
export interface CustomRoleDefinition {
  /** Full ARM id: /subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}. */
  id: string;
  /** The GUID. */
  name: string;
  roleName: string;
  description: string;
  roleType: string;
  permissions: RolePermission[];
  assignableScopes: string[];
}

/** SDK definition → domain type. */
export function toCustomRoleDefinition(d: RoleDefinition, fallbackGuid: string): CustomRoleDefinition {
  return {
    id: d.id ?? "",
    name: d.name ?? fallbackGuid,
    roleName: d.roleName ?? "",
    description: d.description ?? "",
    roleType: d.roleType ?? "",
    permissions: (d.permissions ?? []).map((p) => ({
      actions: p.actions ?? [],
      notActions: p.notActions ?? [],
      dataActions: p.dataActions ?? [],
      notDataActions: p.notDataActions ?? [],
    })),
    assignableScopes: d.assignableScopes ?? [],
  };
}

/** The definition, or null when Azure doesn't know it (yet: new custom roles take minutes to replicate). */
export async function getCustomRoleDefinition(
  credential: TokenCredential,
  scope: string,
  roleId: string,
): Promise<CustomRoleDefinition | null> {
  try {
    const d = await authorizationClient(credential, subscriptionOf(scope)).roleDefinitions.get(sdkScope(scope), roleId);
    return toCustomRoleDefinition(d, roleId);
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return null;
    throw toAzureError(error, { action: "read the custom role", requiredRole: "Reader" });
  }
}
