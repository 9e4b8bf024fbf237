// Delete a custom role definition.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient, sdkScope, subscriptionOf } from "./clients";
import { toAzureError } from "./errors";

/**
 * Delete the custom role `roleId` at `scope` (one of its assignable scopes); an unknown role counts as deleted.
 * Azure refuses while any assignment still uses the role (RoleDefinitionHasAssignments): remove those first.
 */
export async function deleteRoleDefinition(credential: TokenCredential, scope: string, roleId: string): Promise<void> {
  try {
    await authorizationClient(credential, subscriptionOf(scope)).roleDefinitions.delete(sdkScope(scope), roleId);
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return;
    throw toAzureError(error, {
      action: "delete the custom role",
      requiredRole: "Owner or User Access Administrator on every assignable scope of the role",
    });
  }
}
