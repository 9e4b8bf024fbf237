import { describe, expect, it } from "vitest";
import { newRunSchema, storageNameCheckSchema } from "./schemas";

const valid = {
  subscriptionIds: ["602d1a18-a35e-4b89-a27e-56cb26da2c7b"],
  clusterIds: ["/subscriptions/602d1a18-a35e-4b89-a27e-56cb26da2c7b/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a"],
  storage: [{ region: "eastus", subscriptionId: "602d1a18-a35e-4b89-a27e-56cb26da2c7b", resourceGroup: "rg-aks-audit", accountName: "kubeauditeus123456" }],
  restrictNetwork: false,
  retentionDays: 30,
  secretLifetimeDays: 180,
};

describe("newRunSchema", () => {
  it("accepts the defaults", () => {
    expect(newRunSchema.safeParse(valid).success).toBe(true);
  });

  it.each([
    ["retention under 7 days", { retentionDays: 6 }, "retentionDays"],
    ["a secret over 730 days", { secretLifetimeDays: 731 }, "secretLifetimeDays"],
    ["no cluster", { clusterIds: [] }, "clusterIds"],
    ["an invalid account name", { storage: [{ ...valid.storage[0], accountName: "Kube_Audit" }] }, "storage"],
    ["a bad resource group", { storage: [{ ...valid.storage[0], resourceGroup: "rg." }] }, "storage"],
  ])("refuses %s", (_label, patch, field) => {
    const result = newRunSchema.safeParse({ ...valid, ...patch });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path[0]).toBe(field);
  });
});

describe("storageNameCheckSchema", () => {
  it("trims and validates", () => {
    expect(storageNameCheckSchema.safeParse({ subscriptionId: valid.subscriptionIds[0], resourceGroup: " rg ", accountName: " abc123 " }).success).toBe(true);
    expect(storageNameCheckSchema.safeParse({ subscriptionId: "x", resourceGroup: "rg", accountName: "abc" }).success).toBe(false);
  });
});
