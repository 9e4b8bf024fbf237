// Per-cluster flags of the new-onboarding form, from the cluster's diagnostic settings (pure: shared by server and form).

/** A storage account a cluster's diagnostic setting already sends kube-audit to (Azure Monitor writes only within the region). */
export interface KubeAuditExport {
  settingName: string;
  accountId: string;
  subscriptionId: string;
  resourceGroup: string;
  accountName: string;
}

/** What the form can tell about a cluster before any plan: read from its diagnostic settings (counted, never parsed). */
export interface ClusterPreflight {
  /** Diagnostic settings on the cluster; null when they could not be read. */
  settingsCount: number | null;
  /** Azure's limit of settings is used and none of them is the portal's own. */
  limitReached: boolean;
  kubeAuditExports: KubeAuditExport[];
}

/** The ARM id of a region's account choice. */
export function accountIdOf(choice: { subscriptionId: string; resourceGroup: string; accountName: string }): string {
  return `/subscriptions/${choice.subscriptionId}/resourceGroups/${choice.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${choice.accountName}`;
}

/** Whether two ARM ids name the same account (ARM ids compare case-insensitively). */
export function sameAccountId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The cluster's existing setting that sends kube-audit to `accountId` (the run reuses it), if any. */
export function exportTo(p: ClusterPreflight | undefined, accountId: string | undefined): KubeAuditExport | undefined {
  if (!p || !accountId) return undefined;
  return p.kubeAuditExports.find((e) => sameAccountId(e.accountId, accountId));
}

/** Whether the cluster can't take the portal's setting: the limit is reached and no setting of its own can be reused. */
export function blockedByLimit(p: ClusterPreflight | undefined, chosenAccountId: string | undefined): boolean {
  return Boolean(p?.limitReached) && !exportTo(p, chosenAccountId);
}
