// Set the lifecycle rule that deletes old kube-audit logs, keeping any other rules on the account.
import "server-only";
import type { ManagementPolicyRule } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import { AzureOperationError, toAzureError } from "./errors";
import { getManagementPolicyRules, toLifecycleRule, type LifecycleRule } from "./get-management-policy";
import { storageClient } from "./clients";

/** Our rule's name inside the account's single policy. */
export const KUBE_AUDIT_RULE_NAME = "kube-audit-retention";
/** Resource logs land in container insights-logs-{category}; the slash keeps kube-audit-admin out of the match. */
export const KUBE_AUDIT_PREFIX = "insights-logs-kube-audit/";
/** Shortest retention the portal allows for audit logs. */
export const MIN_RETENTION_DAYS = 7;

/** The delete-only rule: resource-log blobs are append blobs, which only support delete actions. */
export function kubeAuditRetentionRule(retentionDays: number): ManagementPolicyRule {
  if (!Number.isInteger(retentionDays) || retentionDays < MIN_RETENTION_DAYS) {
    throw new AzureOperationError("invalid_request", `Retention must be a whole number of days, at least ${MIN_RETENTION_DAYS}.`);
  }
  return {
    name: KUBE_AUDIT_RULE_NAME,
    enabled: true,
    type: "Lifecycle",
    definition: {
      filters: { blobTypes: ["appendBlob", "blockBlob"], prefixMatch: [KUBE_AUDIT_PREFIX] },
      actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: retentionDays } } },
    },
  };
}

/** Existing rules with ours added or replaced (the policy is one document: a PUT replaces every rule). */
export function withKubeAuditRule(existing: ManagementPolicyRule[], retentionDays: number): ManagementPolicyRule[] {
  return [...existing.filter((r) => r.name !== KUBE_AUDIT_RULE_NAME), kubeAuditRetentionRule(retentionDays)];
}

/**
 * Ensure the kube-audit retention rule; returns the policy's rules as stored. `existing`: the account's rules as the
 * caller read them in this execution ([] for an account it just created), so the policy isn't read again.
 */
export async function putManagementPolicy(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  accountName: string,
  retentionDays: number,
  existing?: ManagementPolicyRule[],
): Promise<LifecycleRule[]> {
  kubeAuditRetentionRule(retentionDays); // validate before any call
  const current = existing ?? (await getManagementPolicyRules(credential, subscriptionId, resourceGroup, accountName)) ?? [];
  const rules = withKubeAuditRule(current, retentionDays);
  try {
    const saved = await storageClient(credential, subscriptionId).managementPolicies.createOrUpdate(resourceGroup, accountName, "default", {
      policy: { rules },
    });
    return (saved.policy?.rules ?? []).map(toLifecycleRule);
  } catch (error) {
    throw toAzureError(error, {
      action: `set the log retention policy on ${accountName}`,
      requiredRole: "Contributor or Storage Account Contributor",
    });
  }
}
