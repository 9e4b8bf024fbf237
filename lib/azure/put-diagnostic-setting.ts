// Send one AKS cluster's kube-audit logs to a storage account.
import "server-only";
import type { DiagnosticSettingsResource } from "@azure/arm-monitor";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { toDiagnosticSetting, type DiagnosticSetting } from "./list-diagnostic-settings";
import { monitorClient, sdkScope, subscriptionOf } from "./clients";

/** AKS resource-log category with every API server audit event (kube-audit-admin omits get/list). */
export const KUBE_AUDIT_CATEGORY = "kube-audit";

/** kube-audit only, storage only. No retentionPolicy: diagnostic-settings retention is retired; the lifecycle policy deletes. */
export function kubeAuditSettingBody(storageAccountId: string): DiagnosticSettingsResource {
  return { storageAccountId, logs: [{ category: KUBE_AUDIT_CATEGORY, enabled: true }] };
}

/** Create or update setting `name` on the cluster; a fixed name makes re-runs update instead of colliding. */
export async function putDiagnosticSetting(
  credential: TokenCredential,
  clusterResourceId: string,
  name: string,
  storageAccountId: string,
): Promise<DiagnosticSetting> {
  try {
    const client = monitorClient(credential, subscriptionOf(clusterResourceId));
    const saved = await client.diagnosticSettings.createOrUpdate(sdkScope(clusterResourceId), name, kubeAuditSettingBody(storageAccountId));
    return toDiagnosticSetting(saved);
  } catch (error) {
    throw toAzureError(error, {
      action: "send the cluster's kube-audit logs to the storage account",
      requiredRole: "Monitoring Contributor on the cluster and listKeys on the storage account (e.g. Contributor)",
    });
  }
}
