// Read one role assignment by its full id.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient, sdkScope, subscriptionOf } from "./clients";
import { toAzureError } from "./errors";
import { toRoleAssignmentInfo, type RoleAssignmentInfo } from "./list-principal-assignments";

/** The assignment, or null when it doesn't exist. */
export async function getRoleAssignmentById(credential: TokenCredential, roleAssignmentId: string): Promise<RoleAssignmentInfo | null> {
  try {
    return toRoleAssignmentInfo(
      await authorizationClient(credential, subscriptionOf(roleAssignmentId)).roleAssignments.getById(sdkScope(roleAssignmentId)),
    );
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return null;
    throw toAzureError(error, { action: "read the role assignment", requiredRole: "Reader" });
  }
}
