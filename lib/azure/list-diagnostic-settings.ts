// List the diagnostic settings of one Azure resource (an AKS cluster).
import "server-only";
import type { DiagnosticSettingsResource } from "@azure/arm-monitor";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { monitorClient, sdkScope, subscriptionOf } from "./clients";

/** A diagnostic setting: where it sends which log categories. */
export interface DiagnosticSetting {
  name: string;
  storageAccountId: string | null;
  workspaceId: string | null;
  eventHubAuthorizationRuleId: string | null;
  /** Log categories this setting sends (enabled only). */
  enabledCategories: string[];
}

/** SDK setting → domain type. */
export function toDiagnosticSetting(s: DiagnosticSettingsResource): DiagnosticSetting {
  return {
    name: s.name ?? "",
    storageAccountId: s.storageAccountId ?? null,
    workspaceId: s.workspaceId ?? null,
    eventHubAuthorizationRuleId: s.eventHubAuthorizationRuleId ?? null,
    enabledCategories: (s.logs ?? []).filter((l) => l.enabled && l.category).map((l) => l.category ?? ""),
  };
}

/** Every diagnostic setting on `resourceId` (Azure allows at most 5). */
export async function listDiagnosticSettings(credential: TokenCredential, resourceId: string): Promise<DiagnosticSetting[]> {
  try {
    const client = monitorClient(credential, subscriptionOf(resourceId));
    const result = await client.diagnosticSettings.list(sdkScope(resourceId));
    return (result.value ?? []).map(toDiagnosticSetting);
  } catch (error) {
    throw toAzureError(error, {
      action: "read the cluster's diagnostic settings",
      requiredRole: "Reader or Monitoring Reader on the cluster",
    });
  }
}
