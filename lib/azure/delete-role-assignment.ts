// Remove one role assignment by scope and name.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient, sdkScope, subscriptionOf } from "./clients";
import { toAzureError } from "./errors";

/** Delete the assignment; an assignment that is already gone counts as deleted. */
export async function deleteRoleAssignment(credential: TokenCredential, scope: string, name: string): Promise<void> {
  try {
    await authorizationClient(credential, subscriptionOf(scope)).roleAssignments.delete(sdkScope(scope), name);
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return;
    throw toAzureError(error, {
      action: "remove the role assignment",
      requiredRole: "Owner, User Access Administrator or Role Based Access Control Administrator",
    });
  }
}
