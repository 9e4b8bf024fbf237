import { describe, expect, it } from "vitest";
import type { RunConfig } from "@/lib/steps/config";
import { attentionHeadline, clustersNeedingAttention, completedRunText, summarizeStep } from "./step-summary";

const sub = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const config = {
  tenantId: "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc",
  subscriptions: [{ id: sub, displayName: "Contoso Production" }],
  clusters: [],
  storage: [],
  options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
  vendor: { name: "Expel", appUniqueName: "expel-aks-audit-reader", appDisplayName: "Expel", egressIps: [] },
} satisfies RunConfig;
const ctx = { portalUrl: "https://portal.azure.com", tenantId: config.tenantId, config };

describe("summarizeStep", () => {
  it("links storage accounts and says whether they were adopted", () => {
    const id = `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/kubeaudit1`;
    expect(summarizeStep("storage", { accounts: [{ name: "kubeaudit1", region: "eastus", id, adopted: true }] }, ctx)).toEqual([
      { text: "kubeaudit1 in eastus (adopted)", href: `https://portal.azure.com/#@${config.tenantId}/resource${id}` },
    ]);
  });

  it("names role assignments by subscription, cluster or account, and flags the ABAC condition", () => {
    const account = `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/kubeaudit1`;
    const cluster = `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-1`;
    const lines = summarizeStep(
      "role-assignments",
      {
        assignments: [
          { scope: `/subscriptions/${sub}`, roleName: "Log Analytics Reader" },
          { scope: cluster, roleName: "AKS Audit Log Reader (read-only)" },
          { scope: account, roleName: "Storage Blob Data Reader", condition: "((…))" },
        ],
      },
      ctx,
    );
    expect(lines.map((l) => l.text)).toEqual([
      "Log Analytics Reader on Contoso Production",
      "AKS Audit Log Reader (read-only) on aks-1",
      "Storage Blob Data Reader on kubeaudit1 (reads limited to this audit storage account)",
    ]);
  });

  it("shows the app's client id and the secret's hint and expiry, never more", () => {
    const lines = summarizeStep(
      "app-registration",
      { appId: "app-1", consentGranted: true, secret: { keyId: "k", hint: "abc", expiresAt: "2027-05-26T00:00:00.000Z" } },
      ctx,
    );
    expect(lines.map((l) => l.text)).toEqual([
      "App registration, client ID app-1",
      "Admin consent granted: Log Analytics API Data.Read",
      "Client secret (starts with abc…) expires 2027-05-26",
    ]);
  });

  it("in presenter mode masks ids, drops the links and leaves out the secret hint", () => {
    const appId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    const app = summarizeStep(
      "app-registration",
      { appId, consentGranted: false, secret: { keyId: "k", hint: "abc", expiresAt: "2027-05-26T00:00:00.000Z" } },
      { ...ctx, presenter: true },
    );
    expect(app).toEqual([{ text: "App registration, client ID 3f25…3301" }, { text: "Client secret expires 2027-05-26" }]);
    const other = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f";
    const roles = summarizeStep(
      "role-assignments",
      { assignments: [{ scope: `/subscriptions/${other}`, roleName: "Reader" }] },
      { ...ctx, presenter: true },
    );
    expect(roles).toEqual([{ text: "Reader on /subscriptions/0b1c…7e8f" }]);
    const id = `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/kubeaudit1`;
    const storage = summarizeStep(
      "storage",
      { accounts: [{ name: "kubeaudit1", region: "eastus", id, adopted: false }] },
      { ...ctx, presenter: true },
    );
    expect(JSON.stringify(storage)).not.toContain(config.tenantId);
    expect(JSON.stringify(storage)).not.toContain(sub);
  });

  it("leaves out the secret hint for a viewer who may not manage the app's credentials", () => {
    const app = summarizeStep(
      "app-registration",
      {
        appId: "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        consentGranted: true,
        secret: { keyId: "k", hint: "abc", expiresAt: "2027-05-26T00:00:00.000Z" },
      },
      { ...ctx, secretHints: false },
    );
    expect(app.map((l) => l.text)).toContain("Client secret expires 2027-05-26");
    expect(JSON.stringify(app)).not.toContain("abc");
  });

  it("counts the verification checks by outcome", () => {
    const check = (status: string) => ({ id: status, label: status, status, reason: "r", at: "2026-11-27T07:00:00.000Z" });
    const out = {
      ranAt: "2026-11-27T07:00:00.000Z",
      credential: "run-secret",
      checks: [check("pass"), check("pass"), check("waiting"), check("skipped")],
    };
    expect(summarizeStep("verification", out, ctx)).toEqual([
      { text: "2 of 4 checks passed, 1 waiting for first logs, 1 not tested (details below)" },
    ]);
  });

  it("returns nothing for outputs of an unexpected shape", () => {
    expect(summarizeStep("storage", { something: "else" }, ctx)).toEqual([]);
    expect(summarizeStep("workbench-handoff", null, ctx)).toEqual([]);
  });
});

describe("done with exceptions in words", () => {
  it("counts each cluster once and gets the plural right", () => {
    expect(clustersNeedingAttention([{ subject: "aks-a" }, { subject: "aks-b" }, { subject: "aks-a" }])).toEqual(["aks-a", "aks-b"]);
    expect(attentionHeadline(0)).toBeNull();
    expect(attentionHeadline(1)).toBe("1 cluster needs attention");
    expect(attentionHeadline(2)).toBe("2 clusters need attention");
  });

  it("says a completed run is complete, and how many clusters need attention when some do", () => {
    expect(completedRunText(0)).toBe("Onboarding complete");
    expect(completedRunText(1)).toBe("Complete — 1 cluster needs attention");
    expect(completedRunText(3)).toBe("Complete — 3 clusters need attention");
  });
});
