import { describe, expect, it } from "vitest";
import type { DiagnosticSetting } from "@/lib/azure/list-diagnostic-settings";
import type { RunConfig } from "@/lib/steps/config";
import { classifyCluster, coverageReportView, extendedConfig, gapKey, type CoverageGap, type CoverageReport } from "./drift";

const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const clusterId = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/${name}`;
const accountId = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg-aks-audit/providers/Microsoft.Storage/storageAccounts/${name}`;

const config: RunConfig = {
  tenantId: TENANT,
  subscriptions: [{ id: SUB, displayName: "Production" }],
  clusters: [
    { id: clusterId("aks-a"), name: "aks-a", subscriptionId: SUB, resourceGroup: "rg", location: "eastus" },
    { id: clusterId("aks-gone"), name: "aks-gone", subscriptionId: SUB, resourceGroup: "rg", location: "eastus" },
  ],
  storage: [
    {
      region: "eastus",
      subscriptionId: SUB,
      resourceGroup: "rg-aks-audit",
      createResourceGroup: true,
      accountName: "auditeus",
      adopt: false,
    },
  ],
  options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
  vendor: { name: "Expel", appUniqueName: "expel-aks", appDisplayName: "Expel", egressIps: [] },
};

const setting = (name: string, storageAccountId: string | null, categories: string[] = ["kube-audit"]): DiagnosticSetting => ({
  name,
  storageAccountId,
  workspaceId: null,
  eventHubAuthorizationRuleId: null,
  enabledCategories: categories,
});

describe("classifyCluster", () => {
  const a = { id: clusterId("aks-a"), name: "aks-a", location: "eastus" };

  it("is covered by any setting (ours or the customer's) sending kube-audit to the region's account, ids compared case-insensitively", () => {
    expect(classifyCluster(config, a, [setting("aks-onboarding-kube-audit", accountId("auditeus"))])).toBeNull();
    expect(
      classifyCluster(config, a, [setting("theirs", accountId("auditeus").toUpperCase(), ["kube-apiserver", "kube-audit"])]),
    ).toBeNull();
  });

  it("names why a cluster of the run isn't covered", () => {
    expect(classifyCluster(config, a, [])).toMatchObject({
      reason: "setting-missing",
      inRun: true,
      message: expect.stringContaining("is gone"),
    });
    expect(classifyCluster(config, a, [setting("aks-onboarding-kube-audit", accountId("elsewhere"))])).toMatchObject({
      reason: "wrong-destination",
      message: "The diagnostic setting 'aks-onboarding-kube-audit' sends to elsewhere instead of auditeus.",
    });
    expect(classifyCluster(config, a, [setting("aks-onboarding-kube-audit", accountId("auditeus"), ["kube-apiserver"])])).toMatchObject({
      reason: "kube-audit-off",
    });
  });

  it("says a cluster at Azure's 5-settings limit needs a free slot first, in the run (its exception) or left out", () => {
    const full = [1, 2, 3, 4, 5].map((n) => setting(`other-${n}`, null, ["kube-apiserver"]));
    expect(classifyCluster(config, a, full)).toMatchObject({
      reason: "settings-limit",
      inRun: true,
      message: expect.stringContaining("5 diagnostic settings, Azure's maximum"),
    });
    expect(classifyCluster(config, { id: clusterId("aks-left-out"), name: "aks-left-out", location: "eastus" }, full)).toMatchObject({
      reason: "settings-limit",
      inRun: false,
      needsNewAccount: false,
    });
    // Ours among the five points elsewhere: it can be updated, so it is no limit case.
    expect(classifyCluster(config, a, [...full.slice(0, 4), setting("aks-onboarding-kube-audit", accountId("elsewhere"))])).toMatchObject({
      reason: "wrong-destination",
    });
  });

  it("flags new clusters, and whether their region needs a new account", () => {
    expect(classifyCluster(config, { id: clusterId("aks-new"), name: "aks-new", location: "eastus" }, [])).toMatchObject({
      reason: "new-cluster",
      inRun: false,
      needsNewAccount: false,
    });
    expect(classifyCluster(config, { id: clusterId("aks-neu"), name: "aks-neu", location: "northeurope" }, [])).toMatchObject({
      reason: "new-cluster",
      needsNewAccount: true,
    });
  });
});

function gap(name: string, location: string, overrides: Partial<CoverageGap> = {}): CoverageGap {
  return {
    key: gapKey(clusterId(name)),
    clusterId: clusterId(name),
    clusterName: name,
    subscriptionId: SUB,
    subscriptionName: "Production",
    resourceGroup: "rg",
    location,
    reason: "new-cluster",
    message: `m ${SUB}`,
    inRun: false,
    needsNewAccount: location !== "eastus",
    ...overrides,
  };
}

const report = (gaps: CoverageGap[], extra: Partial<CoverageReport> = {}): CoverageReport => ({
  checkedAt: "2026-11-27T00:00:00.000Z",
  clustersChecked: 5,
  coveredCount: 5 - gaps.length,
  gaps,
  proposedAccounts: [
    {
      region: "northeurope",
      subscriptionId: SUB,
      subscriptionName: "Production",
      resourceGroup: "rg-aks-audit",
      accountName: "auditneu",
      status: "available",
    },
  ],
  accountProblems: [],
  removedClusters: [{ clusterId: clusterId("aks-gone"), clusterName: "aks-gone" }],
  narrowing: [],
  ...extra,
});

describe("extendedConfig", () => {
  const repaired = gap("aks-a", "eastus", { reason: "setting-missing", inRun: true });
  const newEus = gap("aks-new", "eastus");
  const newNeu = gap("aks-neu", "northeurope");

  it("does not reopen the run for its own cluster still at the settings limit", () => {
    const atLimit = gap("aks-a", "eastus", { reason: "settings-limit", inRun: true });
    expect(extendedConfig(config, report([atLimit]), [])).toMatchObject({ ok: false, code: "invalid" });
    const result = extendedConfig(config, report([atLimit, newEus]), [newEus.key]);
    expect(result).toMatchObject({ ok: true, data: { repaired: [] } });
  });

  it("adds only the selected new clusters and their regions' accounts, drops removed clusters and keeps in-run repairs", () => {
    const result = extendedConfig(config, report([repaired, newEus, newNeu]), [newNeu.key]);
    if (!result.ok) throw new Error(result.message);
    expect(result.data.config.clusters.map((c) => c.name)).toEqual(["aks-a", "aks-neu"]);
    expect(result.data.config.storage.map((s) => [s.accountName, s.region, s.adopt])).toEqual([
      ["auditeus", "eastus", false],
      ["auditneu", "northeurope", false],
    ]);
    expect(result.data.repaired.map((g) => g.clusterName)).toEqual(["aks-a"]);

    const eusOnly = extendedConfig(config, report([newEus, newNeu]), [newEus.key]);
    expect(eusOnly.ok && eusOnly.data.config.storage.map((s) => s.accountName)).toEqual(["auditeus"]);
  });

  it("refuses keys the fresh check doesn't know, an empty extension and a region without an account name", () => {
    expect(extendedConfig(config, report([newEus]), ["not-a-gap"])).toMatchObject({ ok: false, code: "stale" });
    expect(extendedConfig(config, report([newEus]), [])).toMatchObject({ ok: false, code: "invalid" });
    // The portal's earlier subscription-wide access is reason enough to extend: the re-plan narrows it.
    const narrowing = [{ roleName: "Storage Blob Data Reader", subscriptionName: "Production" }];
    expect(extendedConfig(config, report([], { narrowing }), [])).toMatchObject({ ok: true, data: { added: [], repaired: [] } });
    const noName = report([newNeu], {
      proposedAccounts: [],
      accountProblems: [{ region: "northeurope", message: "No free storage account name was found for northeurope." }],
    });
    expect(extendedConfig(config, noName, [newNeu.key])).toMatchObject({
      ok: false,
      code: "no_account",
      message: expect.stringContaining("northeurope"),
    });
  });
});

describe("coverageReportView", () => {
  it("never carries ARM or subscription ids, and masks GUIDs in texts in presenter mode", () => {
    const view = coverageReportView(report([gap("aks-new", "eastus")]), true);
    const json = JSON.stringify(view);
    expect(json).not.toContain(SUB);
    expect(json).not.toContain("/subscriptions/");
    expect(view.gaps[0]?.message).toBe("m 602d…2c7b");
    expect(coverageReportView(report([gap("aks-new", "eastus")]), false).gaps[0]?.message).toBe(`m ${SUB}`);
  });
});
