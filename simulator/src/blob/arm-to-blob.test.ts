// Whole chain with the official SDKs: ARM creates a storage account, a diagnostic setting points a cluster at it,
// and the cluster's kube-audit logs show up in that account (Azurite) — what the vendor will read.
import { MonitorClient } from "@azure/arm-monitor";
import { StorageManagementClient } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { simJson, simToken, startTestSimulator } from "../testing";
import { KUBE_AUDIT_CONTAINER } from "./kube-audit";

const SUB = "2cf36c9a-02f4-41d4-b097-7345a8e2806e";
const RG = "rg-aks-dev-eastus";
const CLUSTER_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks-dev-eastus`;
const SCOPES = ["https://management.azure.com/.default"];

let sim: RunningSimulator;
let credential: TokenCredential;
beforeAll(async () => {
  sim = await startTestSimulator({ blob: true, kubeAuditIntervalMs: 60_000 });
  await simJson(sim, "POST", "/_sim/latency", { body: { lroMs: { storageAccount: 100 } } });
  const token = await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "arm" });
  credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
});
afterAll(async () => {
  await sim?.close();
});

describe("ARM → Azurite → kube-audit", () => {
  it("delivers kube-audit logs into a storage account created through ARM", async () => {
    const storage = new StorageManagementClient(credential, SUB, { endpoint: sim.url, credentials: { scopes: SCOPES } });
    const account = await storage.storageAccounts.create(RG, "devauditeus01", {
      location: "eastus",
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
    });
    expect(account.primaryEndpoints?.blob).toBe(`${sim.blobUrl}/devauditeus01/`);
    const keys = await storage.storageAccounts.listKeys(RG, "devauditeus01");
    const key = keys.keys?.[0]?.value ?? "";

    // Microsoft.Insights is unregistered on this subscription in the default scenario: register it, as the portal will
    // (registration completes asynchronously; the retry below covers it).
    await simJson(sim, "POST", `/subscriptions/${SUB}/providers/Microsoft.Insights/register?api-version=2025-04-01`, {
      token: (await credential.getToken(SCOPES))?.token,
    });
    const monitor = new MonitorClient(credential, SUB, { endpoint: sim.url, credentialScopes: SCOPES });
    await retry(() =>
      monitor.diagnosticSettings.createOrUpdate(CLUSTER_ID.slice(1), "vendor-kube-audit", {
        storageAccountId: account.id,
        logs: [{ category: "kube-audit", enabled: true }],
      }),
    );

    const container = new BlobServiceClient(
      account.primaryEndpoints?.blob ?? "",
      new StorageSharedKeyCredential("devauditeus01", key),
    ).getContainerClient(KUBE_AUDIT_CONTAINER);
    // Delivery is asynchronous, as Azure Monitor's is: the first blob appears within the retry's bound.
    const names = await retry(async () => {
      const found: string[] = [];
      for await (const b of container.listBlobsFlat()) found.push(b.name);
      if (found.length === 0) throw new Error("no blob yet");
      return found;
    }, 15_000);
    expect(names[0]).toMatch(
      new RegExp(`^resourceId=${CLUSTER_ID.toUpperCase().replace(/[.]/g, "\\.")}/y=\\d{4}/m=\\d{2}/d=\\d{2}/h=\\d{2}/m=00/PT1H\\.json$`),
    );
  });
});

async function retry<T>(fn: () => Promise<T>, timeoutMs = 4000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
