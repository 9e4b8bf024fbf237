// Read one role definition by its full id.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient } from "./clients";
import { toAzureError } from "./errors";

export interface RoleDefinitionSummary {
  id: string;
  roleName: string;
  actions: string[];
  notActions: string[];
}

/** The role's name and its control-plane permissions. */
export async function getRoleDefinition(
  credential: TokenCredential,
  subscriptionId: string,
  roleDefinitionId: string,
): Promise<RoleDefinitionSummary> {
  try {
    const d = await authorizationClient(credential, subscriptionId).roleDefinitions.getById(roleDefinitionId);
    return {
      id: d.id ?? roleDefinitionId,
      roleName: d.roleName ?? "Unnamed role",
      actions: d.permissions?.flatMap((p) => p.actions ?? []) ?? [],
      notActions: d.permissions?.flatMap((p) => p.notActions ?? []) ?? [],
    };
  } catch (error) {
    throw toAzureError(error, { action: "read a role definition", requiredRole: "Reader" });
  }
}
