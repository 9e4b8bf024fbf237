// List the role assignments that apply to one principal in a subscription.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { authorizationClient } from "./clients";
import { toAzureError } from "./errors";

export interface RoleAssignmentSummary {
  scope: string;
  roleDefinitionId: string;
}

/** Assignments of `principalId` at the subscription, above it or below it (assignedTo includes groups). */
export async function listRoleAssignmentsForPrincipal(
  credential: TokenCredential,
  subscriptionId: string,
  principalId: string,
): Promise<RoleAssignmentSummary[]> {
  try {
    const out: RoleAssignmentSummary[] = [];
    const pages = authorizationClient(credential, subscriptionId).roleAssignments.listForSubscription({
      filter: `assignedTo('${principalId}')`,
    });
    for await (const a of pages) {
      if (a.scope && a.roleDefinitionId) out.push({ scope: a.scope, roleDefinitionId: a.roleDefinitionId });
    }
    return out;
  } catch (error) {
    throw toAzureError(error, { action: "read your role assignments in this subscription", requiredRole: "Reader" });
  }
}
