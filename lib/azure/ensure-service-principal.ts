// Make sure an application has a service principal in this tenant (the vendor's app, or the Log Analytics API).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { AzureOperationError, toAzureError } from "./errors";
import { getServicePrincipalByAppId, toServicePrincipalInfo, type ServicePrincipalInfo } from "./get-service-principal-by-app-id";
import { graphClient } from "./graph-client";

/**
 * The existing service principal, or a new one. Right after the app is created Entra may answer
 * NoBackingApplicationObject (the app hasn't replicated): that surfaces as application_not_replicated, a
 * "replication" error the retry layer retries.
 */
export async function ensureServicePrincipal(
  credential: TokenCredential,
  appId: string,
  /** The caller's own read in this execution found no service principal for the app: skip the GET. */
  options: { knownAbsent?: boolean } = {},
): Promise<{ servicePrincipal: ServicePrincipalInfo; created: boolean }> {
  if (!options.knownAbsent) {
    const existing = await getServicePrincipalByAppId(credential, appId);
    if (existing) return { servicePrincipal: existing, created: false };
  }
  try {
    const body: unknown = await graphClient(credential).api("/servicePrincipals").post({ appId });
    return { servicePrincipal: toServicePrincipalInfo(body), created: true };
  } catch (error) {
    const mapped = toAzureError(error, {
      action: "create the service principal for the app",
      requiredRole: "Application Developer or Cloud Application Administrator, with the Application.ReadWrite.All permission",
      whoCanGrant: "a Global Administrator or Privileged Role Administrator",
    });
    if (mapped.code !== "already_exists") throw mapped;
  }
  // Someone created it between our read and our POST.
  const raced = await getServicePrincipalByAppId(credential, appId);
  if (!raced)
    throw new AzureOperationError("conflict", "Entra ID reports the service principal exists but cannot return it yet. Retry in a moment.");
  return { servicePrincipal: raced, created: false };
}
