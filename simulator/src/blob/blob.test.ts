// Azurite behind the simulator: accounts appear when ARM creates them, and the kube-audit writer fills them.
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArmResource } from "../contract";
import type { RunningSimulator } from "../index";
import { simJson, startTestSimulator } from "../testing";
import { KUBE_AUDIT_CONTAINER, kubeAuditBlobName } from "./kube-audit";

const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const RG = "rg-aks-prod-eastus";
const CLUSTER_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks-payments-prod`;

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator({ blob: true, kubeAuditIntervalMs: 60_000 });
});
afterAll(async () => {
  await sim?.close();
});

function storageAccount(name: string): ArmResource {
  return {
    id: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/${name}`,
    name,
    type: "Microsoft.Storage/storageAccounts",
    location: "eastus",
    kind: "StorageV2",
    sku: { name: "Standard_LRS", tier: "Standard" },
    properties: { provisioningState: "Succeeded", primaryEndpoints: { blob: `${sim.blobUrl}/${name}/` } },
  };
}

function serviceClient(name: string): BlobServiceClient {
  return new BlobServiceClient(`${sim.blobUrl}/${name}`, new StorageSharedKeyCredential(name, sim.state().storageKey(name)));
}

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 5000): Promise<T> {
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

describe("blob storage (Azurite)", () => {
  it("serves a storage account as soon as ARM announces it, with the key ARM reports", async () => {
    const name = "simtestacct01";
    const before = await serviceClient(name)
      .getContainerClient("probe")
      .createIfNotExists()
      .catch((e: { statusCode?: number }) => e.statusCode);
    expect(before).not.toHaveProperty("succeeded", true);

    const account = storageAccount(name);
    sim.state().putArm(account);
    sim.state().events.emit("storageAccountCreated", account);
    const container = serviceClient(name).getContainerClient("hello");
    await eventually(() => container.createIfNotExists());
    await container.getBlockBlobClient("a.txt").upload("hi", 2);
    expect((await container.getBlockBlobClient("a.txt").downloadToBuffer()).toString()).toBe("hi");

    // A wrong key is refused: Azurite really checks Shared Key signatures.
    const wrong = new BlobServiceClient(
      `${sim.blobUrl}/${name}`,
      new StorageSharedKeyCredential(name, Buffer.alloc(64, 1).toString("base64")),
    );
    await expect(wrong.getContainerClient("hello").getProperties()).rejects.toMatchObject({ statusCode: 403 });
  });

  it("writes kube-audit resource logs to the exact Azure Monitor blob path after a diagnostic setting appears", async () => {
    const name = "simauditeus01";
    const account = storageAccount(name);
    sim.state().putArm(account);
    sim.state().events.emit("storageAccountCreated", account);
    const setting: ArmResource = {
      id: `${CLUSTER_ID}/providers/Microsoft.Insights/diagnosticSettings/vendor-kube-audit`,
      name: "vendor-kube-audit",
      type: "Microsoft.Insights/diagnosticSettings",
      properties: { storageAccountId: account.id, logs: [{ category: "kube-audit", enabled: true }] },
    };
    sim.state().putArm(setting);
    const t0 = Date.now();
    sim.state().events.emit("diagnosticSettingsChanged", CLUSTER_ID);

    const container = serviceClient(name).getContainerClient(KUBE_AUDIT_CONTAINER);
    const blobName = kubeAuditBlobName(CLUSTER_ID, new Date());
    expect(blobName).toMatch(
      new RegExp(
        `^resourceId=/SUBSCRIPTIONS/${SUB.toUpperCase()}/RESOURCEGROUPS/RG-AKS-PROD-EASTUS/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PAYMENTS-PROD/y=\\d{4}/m=\\d{2}/d=\\d{2}/h=\\d{2}/m=00/PT1H.json$`,
      ),
    );
    const props = await eventually(() => container.getBlobClient(blobName).getProperties(), 4000);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(props.blobType).toBe("AppendBlob");

    const text = (await container.getBlobClient(blobName).downloadToBuffer()).toString("utf8");
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).toMatchObject({
        resourceId: CLUSTER_ID.toUpperCase(),
        category: "kube-audit",
        operationName: "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
      });
      const p = line.properties as { log: string; stream: string; pod: string; containerID: string };
      expect(p.stream).toBe("stdout");
      expect(p.pod).toMatch(/^kube-apiserver-/);
      const event = JSON.parse(p.log) as Record<string, unknown>;
      expect(event).toMatchObject({ kind: "Event", apiVersion: "audit.k8s.io/v1", stage: "ResponseComplete" });
      expect(event).toHaveProperty("auditID");
      expect(event).toHaveProperty("verb");
    }

    // Later batches append to the same hourly blob.
    const flushed = await simJson(sim, "POST", "/_sim/kube-audit/flush");
    expect(flushed.body.blobs).toContain(`${sim.blobUrl}/${name}/${KUBE_AUDIT_CONTAINER}/${blobName}`);
    const after = (await container.getBlobClient(blobName).downloadToBuffer()).toString("utf8").trim().split("\n");
    expect(after.length).toBeGreaterThan(lines.length);
  });

  it("ignores settings without kube-audit or without a storage account", async () => {
    sim.state().putArm({
      id: `${CLUSTER_ID}/providers/Microsoft.Insights/diagnosticSettings/law-only`,
      name: "law-only",
      type: "Microsoft.Insights/diagnosticSettings",
      properties: {
        workspaceId: "/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/workspaces/z",
        logs: [{ category: "kube-audit", enabled: true }],
      },
    });
    const blobs = await sim.flushKubeAudit();
    expect(blobs.every((b) => b.includes("/simauditeus01/"))).toBe(true);
  });
});
