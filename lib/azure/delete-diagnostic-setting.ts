// Delete one diagnostic setting of a resource (an AKS cluster).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { monitorClient, sdkScope, subscriptionOf } from "./clients";

/** Delete setting `name`; Azure answers 204 when it doesn't exist, which counts as deleted. */
export async function deleteDiagnosticSetting(credential: TokenCredential, resourceId: string, name: string): Promise<void> {
  try {
    await monitorClient(credential, subscriptionOf(resourceId)).diagnosticSettings.delete(sdkScope(resourceId), name);
  } catch (error) {
    if ((error as { statusCode?: unknown } | null)?.statusCode === 404) return;
    throw toAzureError(error, {
      action: `delete the diagnostic setting ${name}`,
      requiredRole: "Monitoring Contributor on the cluster (or Contributor)",
    });
  }
}
