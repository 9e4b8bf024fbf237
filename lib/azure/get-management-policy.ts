// Read a storage account's lifecycle management policy (the only policy is named "default").
import "server-only";
import type { ManagementPolicyRule } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { storageClient } from "./clients";

/** One lifecycle management rule. */
export interface LifecycleRule {
  name: string;
  enabled: boolean;
  blobTypes: string[];
  prefixMatch: string[];
  /** baseBlob delete after N days since modification; null when the rule doesn't delete. */
  deleteAfterDays: number | null;
}

/** SDK rule → domain rule. */
export function toLifecycleRule(r: ManagementPolicyRule): LifecycleRule {
  return {
    name: r.name,
    enabled: r.enabled ?? true,
    blobTypes: r.definition.filters?.blobTypes ?? [],
    prefixMatch: r.definition.filters?.prefixMatch ?? [],
    deleteAfterDays: r.definition.actions.baseBlob?.delete?.daysAfterModificationGreaterThan ?? null,
  };
}

/** The policy's rules, or null when the account has no policy (Azure answers 404 ManagementPolicyNotFound). */
export async function getManagementPolicy(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  accountName: string,
): Promise<LifecycleRule[] | null> {
  return (await getManagementPolicyRules(credential, subscriptionId, resourceGroup, accountName))?.map(toLifecycleRule) ?? null;
}

/** The policy's rules as Azure stores them (what a PUT must send back to keep them), or null without a policy. */
export async function getManagementPolicyRules(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  accountName: string,
): Promise<ManagementPolicyRule[] | null> {
  try {
    const policy = await storageClient(credential, subscriptionId).managementPolicies.get(resourceGroup, accountName, "default");
    return policy.policy?.rules ?? [];
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return null;
    throw toAzureError(error, { action: `read the lifecycle policy of ${accountName}`, requiredRole: "Reader" });
  }
}
