import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { seedArm } from "./src/arm/index";
import { seedGraph } from "./src/graph/index";
import { loadScenario } from "./src/index";
import { SimState } from "./src/state";

const DIR = path.join("simulator", "scenarios");
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".json"));

describe("scenario files", () => {
  it("include the real-estate scenarios the portal's tests name", () => {
    for (const name of [
      "unregistered-storage.json",
      "policy-deny.json",
      "non-entra.json",
      "cluster-at-limit.json",
      "brownfield-kube-audit.json",
      "locks.json",
      "disabled-subscription.json",
      "large-estate-150.json",
    ])
      expect(files).toContain(name);
  });

  it.each(files)("%s loads through the schema and seeds every subscription and cluster", (file) => {
    const scenario = loadScenario(path.join(DIR, file));
    const state = new SimState(scenario, "https://127.0.0.1:1", "https://127.0.0.1:2");
    seedArm(state);
    seedGraph(state);
    const all = [...state.arm.values()];
    const of = (type: string) => all.filter((r) => r.type.toLowerCase() === type.toLowerCase()).length;
    expect(of("Microsoft.Resources/subscriptions")).toBe(scenario.subscriptions.length);
    expect(of("Microsoft.ContainerService/managedClusters")).toBe(scenario.subscriptions.reduce((n, s) => n + s.clusters.length, 0));
    expect(of("Microsoft.Storage/storageAccounts")).toBe(scenario.subscriptions.reduce((n, s) => n + s.storageAccounts.length, 0));
    expect(of("Microsoft.Authorization/policyAssignments")).toBe(scenario.policyAssignments.length);
    expect(of("Microsoft.Authorization/locks")).toBe(scenario.locks.length);
  });
});

describe("what the real-estate scenarios model", () => {
  const load = (f: string) => loadScenario(path.join(DIR, f));

  it("unregistered-storage: no subscription has Microsoft.Storage registered; clusters in two regions", () => {
    const s = load("unregistered-storage.json");
    for (const sub of s.subscriptions) expect(sub.registeredProviders.map((p) => p.toLowerCase())).not.toContain("microsoft.storage");
    expect(new Set(s.subscriptions.flatMap((x) => x.clusters.map((c) => c.location))).size).toBe(2);
  });

  it("non-entra: one cluster without Entra, one Entra + Azure RBAC, one Entra without Azure RBAC, a non-audit account", () => {
    const clusters = load("non-entra.json").subscriptions.flatMap((x) => x.clusters);
    expect(clusters.filter((c) => !c.entraIntegration)).toHaveLength(1);
    expect(clusters.filter((c) => c.entraIntegration && c.azureRbac)).toHaveLength(1);
    expect(clusters.filter((c) => c.entraIntegration && !c.azureRbac)).toHaveLength(1);
    expect(load("non-entra.json").subscriptions.flatMap((x) => x.storageAccounts.map((a) => a.name))).toContain("contosoappdata");
  });

  it("cluster-at-limit: one cluster holds five diagnostic settings", () => {
    const counts = load("cluster-at-limit.json").subscriptions.flatMap((x) => x.clusters.map((c) => c.diagnosticSettings.length));
    expect(counts.filter((n) => n === 5)).toHaveLength(1);
  });

  it("brownfield-kube-audit: a cluster sends kube-audit to an existing account in its own region", () => {
    const subs = load("brownfield-kube-audit.json").subscriptions;
    const accounts = subs.flatMap((x) =>
      x.storageAccounts.map((a) => ({
        ...a,
        id: `/subscriptions/${x.id}/resourceGroups/${a.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${a.name}`,
      })),
    );
    const senders = subs
      .flatMap((x) => x.clusters)
      .filter((c) => c.diagnosticSettings.some((d) => d.logs.some((l) => l.category === "kube-audit" && l.enabled)));
    expect(senders).toHaveLength(1);
    const target = senders[0]?.diagnosticSettings[0]?.storageAccountId?.toLowerCase();
    const account = accounts.find((a) => a.id.toLowerCase() === target);
    expect(account?.location).toBe(senders[0]?.location);
  });

  it("disabled-subscription and large-estate-150", () => {
    expect(load("disabled-subscription.json").subscriptions.filter((x) => x.state === "Disabled")).toHaveLength(1);
    const large = load("large-estate-150.json");
    expect(large.subscriptions).toHaveLength(150);
    expect(large.subscriptions.reduce((n, x) => n + x.clusters.length, 0)).toBeGreaterThanOrEqual(300);
  });
});
