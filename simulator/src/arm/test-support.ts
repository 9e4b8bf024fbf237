// Test support for the ARM/Graph handler tests: a running simulator and the official SDK clients pointed at it.
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { MonitorClient } from "@azure/arm-monitor";
import { ResourceManagementClient } from "@azure/arm-resources";
import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import { StorageManagementClient } from "@azure/arm-storage";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { Client } from "@microsoft/microsoft-graph-client";
import type { RunningSimulator } from "../index";
import { simToken } from "../testing";

export const SUB_PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
export const SUB_DEV = "2cf36c9a-02f4-41d4-b097-7345a8e2806e";
export const OWNER = "owner@contoso.onmicrosoft.com";
export const READER = "reader@contoso.onmicrosoft.com";
export const OWNER_OID = "19281c3c-2885-478e-89dc-99a15ac5710a";
export const READER_OID = "e7cc1d54-59ea-4b6d-a97d-9fd53361c502";
const ARM_SCOPES = ["https://management.azure.com/.default"];

/** A TokenCredential that hands out /_sim/token tokens for one user (or app) and resource. */
export function simCredential(sim: RunningSimulator, who: { upn?: string; appId?: string }, scopes?: string[]): TokenCredential {
  let cached: AccessToken | undefined;
  return {
    async getToken(): Promise<AccessToken> {
      if (!cached) cached = { token: await simToken(sim, { ...who, resource: "arm", scopes }), expiresOnTimestamp: Date.now() + 3_600_000 };
      return cached;
    },
  };
}

/** The official ARM SDK clients as the portal creates them, against the simulator. */
export function armClients(sim: RunningSimulator, upn: string, subscriptionId = SUB_PROD) {
  const credential = simCredential(sim, { upn });
  const classic = { endpoint: sim.url, credentialScopes: ARM_SCOPES };
  return {
    credential,
    subscriptions: new SubscriptionClient(credential, classic),
    resources: new ResourceManagementClient(credential, subscriptionId, classic),
    storage: new StorageManagementClient(credential, subscriptionId, { endpoint: sim.url, credentials: { scopes: ARM_SCOPES } }),
    aks: new ContainerServiceClient(credential, subscriptionId, { endpoint: sim.url, credentials: { scopes: ARM_SCOPES } }),
    monitor: new MonitorClient(credential, subscriptionId, classic),
    authorization: new AuthorizationManagementClient(credential, subscriptionId, classic),
  };
}

/** graph-client as the portal uses it (customHosts is what makes it send the token to 127.0.0.1). */
export function graphClient(sim: RunningSimulator, who: { upn?: string; appId?: string }, scopes?: string[]): Client {
  let token: string | undefined;
  return Client.initWithMiddleware({
    baseUrl: sim.url,
    customHosts: new Set(["127.0.0.1"]),
    authProvider: { getAccessToken: async () => (token ??= await simToken(sim, { ...who, resource: "graph", scopes })) },
  });
}

export function clusterId(sub: string, rg: string, name: string): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
}

/** The REST error an SDK call rejected with: status code and Azure's error code/message. */
export async function azureFailure(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { statusCode?: number; code?: string; message: string };
    return { statusCode: err.statusCode, code: err.code, message: err.message };
  }
  throw new Error("expected the call to fail");
}
