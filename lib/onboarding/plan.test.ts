import { describe, expect, it } from "vitest";
import type { RunConfig } from "@/lib/steps/config";
import { clusterKey, configWithoutCluster, flaggedClusters, type StoredPlan } from "./plan";

const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const cluster = (name: string, location: string) => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/${name}`,
  name,
  subscriptionId: SUB,
  resourceGroup: "rg-aks",
  location,
});
const EUS1 = cluster("aks-eus-1", "eastus");
const EUS2 = cluster("aks-eus-2", "eastus");
const WEU = cluster("aks-weu", "westeurope");
const storage = (region: string, accountName: string) => ({
  region,
  subscriptionId: SUB,
  resourceGroup: "rg-audit",
  createResourceGroup: true,
  accountName,
  adopt: false,
});

const config: RunConfig = {
  tenantId: "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc",
  subscriptions: [{ id: SUB, displayName: "Prod" }],
  clusters: [EUS1, EUS2, WEU],
  storage: [storage("eastus", "auditeus"), storage("westeurope", "auditweu")],
  options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
  vendor: { name: "Vendor", appUniqueName: "vendor-reader", appDisplayName: "Vendor reader", egressIps: [] },
};

const attention = (c: { id: string; name: string }) => ({
  kind: "cluster" as const,
  subject: c.name,
  resourceId: c.id.toUpperCase(),
  code: "diagnostic_settings_limit",
  reason: "It already has 5.",
  action: "Remove one.",
});
const line = (c: { id: string; name: string }, blocked: boolean) => ({
  stepId: "diagnostic-settings" as const,
  key: `k:${c.id}`,
  action: "create" as const,
  resourceType: "Diagnostic setting",
  resource: c.name,
  why: "w",
  ...(blocked ? { attention: attention(c) } : {}),
});

describe("flaggedClusters", () => {
  it("lists each cluster of the run a plan line flags, once, with why and what to do", () => {
    const plan: StoredPlan = {
      computedAt: "2026-12-03T00:00:00Z",
      steps: [
        { stepId: "diagnostic-settings", changes: [line(EUS1, false), line(WEU, true)] },
        { stepId: "verification", changes: [line(WEU, true), line(cluster("aks-other", "eastus"), true)] },
      ],
    };
    expect(flaggedClusters(plan, config)).toEqual([
      { key: clusterKey(WEU.id), name: "aks-weu", code: "diagnostic_settings_limit", reason: "It already has 5.", action: "Remove one." },
    ]);
    expect(clusterKey(WEU.id)).toMatch(/^[0-9a-f]{24}$/);
    expect(clusterKey(WEU.id)).toBe(clusterKey(WEU.id.toUpperCase()));
  });
});

describe("configWithoutCluster", () => {
  it("drops the cluster and its region's account when no other cluster needs that region", () => {
    const out = configWithoutCluster(config, clusterKey(WEU.id));
    expect(out).toMatchObject({ ok: true, data: { clusterName: "aks-weu", droppedAccount: "auditweu" } });
    if (!out.ok) return;
    expect(out.data.config.clusters.map((c) => c.name)).toEqual(["aks-eus-1", "aks-eus-2"]);
    expect(out.data.config.storage.map((s) => s.accountName)).toEqual(["auditeus"]);
  });

  it("keeps the region's account while another cluster of the region stays", () => {
    const out = configWithoutCluster(config, clusterKey(EUS1.id));
    expect(out).toMatchObject({ ok: true, data: { droppedAccount: null } });
    if (out.ok) expect(out.data.config.storage).toEqual(config.storage);
  });

  it("refuses an unknown cluster and leaving out the last one", () => {
    expect(configWithoutCluster(config, "0".repeat(24))).toMatchObject({ ok: false, code: "stale" });
    const one = { ...config, clusters: [WEU], storage: [storage("westeurope", "auditweu")] };
    expect(configWithoutCluster(one, clusterKey(WEU.id))).toMatchObject({
      ok: false,
      code: "invalid",
      message: expect.stringContaining("only cluster"),
    });
  });
});
