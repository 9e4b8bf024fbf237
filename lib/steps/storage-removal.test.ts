import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it, vi } from "vitest";
import { storageKeys, storageRemoval } from "./storage";
import type { LoggedWrite, RemovalContext } from "./types";

const SUB = "s1";
const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/kubeaudit1`;
const FOREIGN = `/subscriptions/${SUB}/resourceGroups/rg-audit/providers/Microsoft.Compute/disks/their-disk`;
const azure = vi.hoisted(() => ({ groupHolds: [] as { id: string; name: string; type: string }[], deleted: [] as string[] }));

vi.mock("@/lib/azure/get-storage-account", () => ({ getStorageAccount: async () => ({ id: "present" }) }));
vi.mock("@/lib/azure/get-management-policy", async (original) => ({
  ...(await original<Record<string, unknown>>()),
  getManagementPolicy: async () => ({ rules: [] }),
}));
vi.mock("@/lib/azure/list-resource-group-resources", () => ({ listResourceGroupResources: async () => azure.groupHolds }));
vi.mock("@/lib/azure/delete-storage-account", () => ({
  deleteStorageAccount: async (_c: unknown, _s: string, _g: string, name: string) => void azure.deleted.push(name),
}));

const ctx = {
  tenantId: "t1",
  config: { storage: [], subscriptions: [{ id: SUB, displayName: "Prod" }], clusters: [] },
  arm: {} as TokenCredential,
  graph: {} as TokenCredential,
  outputs: {},
  workbench: null,
} as unknown as RemovalContext;

const created = (key: string, provenance: LoggedWrite["provenance"] = "created"): LoggedWrite => ({
  key,
  kinds: ["create"],
  target: key,
  resourceId: null,
  provenance,
});

describe("storage removal", () => {
  it("removes the run's account with its retention rule, and keeps a group that holds something the run didn't create", async () => {
    azure.groupHolds = [
      { id: ACCOUNT, name: "kubeaudit1", type: "Microsoft.Storage/storageAccounts" },
      { id: FOREIGN, name: "their-disk", type: "Microsoft.Compute/disks" },
    ];
    const { lines, live } = await storageRemoval.plan(
      [
        created(storageKeys.resourceGroup({ subscriptionId: SUB, resourceGroup: "rg-audit" })),
        created(storageKeys.account(ACCOUNT)),
        created(storageKeys.lifecycle(ACCOUNT), "uncertain"),
      ],
      ctx,
    );
    expect(lines.map((l) => [l.category, l.action, l.resource])).toEqual([
      ["storage-account", "remove", "kubeaudit1"],
      ["resource-group", "keep", "rg-audit"],
    ]);
    expect(lines[1]?.why).toBe("It also holds their-disk, which this run didn't create, so it is kept.");
    expect([...live.keys()]).toEqual([storageKeys.account(ACCOUNT)]);
    await live.get(storageKeys.account(ACCOUNT))?.remove();
    expect(azure.deleted).toEqual(["kubeaudit1"]);
  });

  it("removes a group left empty by the account's removal, after the account; an uncertain create reads as likely the run's", async () => {
    azure.groupHolds = [{ id: ACCOUNT, name: "kubeaudit1", type: "Microsoft.Storage/storageAccounts" }];
    const { lines } = await storageRemoval.plan(
      [
        created(storageKeys.resourceGroup({ subscriptionId: SUB, resourceGroup: "rg-audit" }), "uncertain"),
        created(storageKeys.account(ACCOUNT)),
      ],
      ctx,
    );
    expect(lines.map((l) => [l.category, l.action])).toEqual([
      ["storage-account", "remove"],
      ["resource-group", "remove"],
    ]);
    expect(lines[1]?.why).toMatch(/most likely created by that attempt/);
  });
});
