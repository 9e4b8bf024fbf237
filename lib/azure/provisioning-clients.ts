// Official Azure SDK clients for the provisioning steps (storage, monitor, resources), pointed at the configured ARM endpoint.
import "server-only";
import { MonitorClient } from "@azure/arm-monitor";
import { ResourceManagementClient } from "@azure/arm-resources";
import { StorageManagementClient } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import { env } from "@/lib/env";
import { armClientOptions } from "./clients";

function armScope(): string {
  return `${env().ARM_AUDIENCE}/.default`;
}

/** Storage accounts and lifecycle policies in one subscription (modular client: scopes go under `credentials`). */
export function storageClient(credential: TokenCredential, subscriptionId: string): StorageManagementClient {
  return new StorageManagementClient(credential, subscriptionId, { ...armClientOptions(), credentials: { scopes: [armScope()] } });
}

/** Diagnostic settings (arm-monitor 7: api-version 2017-05-01-preview, no category groups). */
export function monitorClient(credential: TokenCredential, subscriptionId: string): MonitorClient {
  return new MonitorClient(credential, subscriptionId, { ...armClientOptions(), credentialScopes: [armScope()] });
}

/** Resource groups and resource provider registration in one subscription. */
export function resourcesClient(credential: TokenCredential, subscriptionId: string): ResourceManagementClient {
  return new ResourceManagementClient(credential, subscriptionId, { ...armClientOptions(), credentialScopes: [armScope()] });
}

/** The subscription id inside an ARM id or scope ("/subscriptions/{id}/…"). */
export function subscriptionOf(resourceId: string): string {
  const match = /^\/subscriptions\/([^/]+)/i.exec(resourceId);
  if (!match?.[1]) throw new Error(`Not a subscription-level Azure id: ${resourceId}`);
  return match[1];
}

/** arm-monitor and arm-authorization path templates are "/{resourceUri}…" and "/{scope}…": a leading slash would send "//subscriptions". */
export function sdkScope(resourceIdOrScope: string): string {
  return resourceIdOrScope.replace(/^\/+/, "");
}
