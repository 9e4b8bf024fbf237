import { describe, expect, it } from "vitest";
import type { StorageAccountInfo } from "@/lib/azure/get-storage-account";
import type { LifecycleRule } from "@/lib/azure/get-management-policy";
import type { RunConfig } from "./config";
import { creationTags, storageAccountIdOf, storageStep, type StorageLive, type StorageRegionLive } from "./storage";
import type { StepContext } from "./types";

const PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const DEV = "2cf36c9a-02f4-41d4-b097-7345a8e2806e";

function config(options: Partial<RunConfig["options"]> = {}, storage: Partial<RunConfig["storage"][number]> = {}): RunConfig {
  return {
    tenantId: "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc",
    subscriptions: [
      { id: PROD, displayName: "Prod" },
      { id: DEV, displayName: "Dev" },
    ],
    clusters: [
      {
        id: `/subscriptions/${DEV}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1`,
        name: "aks1",
        subscriptionId: DEV,
        resourceGroup: "rg",
        location: "eastus",
      },
    ],
    storage: [
      {
        region: "eastus",
        subscriptionId: PROD,
        resourceGroup: "rg-audit",
        createResourceGroup: true,
        accountName: "auditeus01",
        adopt: false,
        ...storage,
      },
    ],
    options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180, ...options },
    vendor: {
      name: "Vendor",
      appUniqueName: "vendor-reader",
      appDisplayName: "Vendor reader",
      egressIps: ["203.0.113.10", "198.51.100.20"],
    },
  };
}

/** plan() is pure: a context whose Azure surface throws proves it. */
function planContext(c: RunConfig): StepContext {
  const fail = () => {
    throw new Error("plan must not call Azure");
  };
  return {
    runId: "r",
    tenantId: c.tenantId,
    actorUpn: "a@b",
    config: c,
    arm: { getToken: fail },
    graph: { getToken: fail },
    outputs: {},
    write: fail,
    progress: fail,
    wroteBefore: fail,
    secrets: { put: fail, get: fail, delete: fail },
  };
}

function account(overrides: Partial<StorageAccountInfo> = {}): StorageAccountInfo {
  return {
    id: storageAccountIdOf({ subscriptionId: PROD, resourceGroup: "rg-audit", accountName: "auditeus01" }),
    name: "auditeus01",
    location: "eastus",
    kind: "StorageV2",
    sku: "Standard_LRS",
    isHnsEnabled: false,
    httpsOnly: true,
    minTls: "TLS1_2",
    allowBlobPublicAccess: false,
    allowCrossTenantReplication: false,
    networkRules: { defaultAction: "Allow", bypass: "AzureServices", ipRules: [] },
    blobEndpoint: "https://auditeus01.blob.core.windows.net/",
    provisioningState: "Succeeded",
    ...overrides,
  };
}

const ourRule = (days = 30): LifecycleRule => ({
  name: "kube-audit-retention",
  enabled: true,
  blobTypes: ["appendBlob", "blockBlob"],
  prefixMatch: ["insights-logs-kube-audit/"],
  deleteAfterDays: days,
});

function live(c: RunConfig, region: Partial<StorageRegionLive>, unregistered: string[] = []): StorageLive {
  const choice = c.storage[0];
  if (!choice) throw new Error("no storage choice");
  return {
    providers: [PROD, DEV].flatMap((subscriptionId) =>
      (["Microsoft.Storage", "Microsoft.Insights"] as const).map((namespace) => {
        const registered = !unregistered.includes(`${subscriptionId}/${namespace}`);
        return { subscriptionId, namespace, registered, state: registered ? "Registered" : "NotRegistered" };
      }),
    ),
    regions: [
      {
        choice,
        accountId: storageAccountIdOf(choice),
        resourceGroupExists: true,
        account: account(),
        nameCheck: null,
        policy: [ourRule()],
        ...region,
      },
    ],
  };
}

const summary = (c: RunConfig, l: StorageLive) =>
  storageStep.plan(planContext(c), l).map((x) => `${x.action} ${x.resourceType}: ${x.resource}`);

describe("storage plan", () => {
  it("on a fresh tenant: registers what is missing, creates the group, the account and the policy", () => {
    const c = config();
    const l = live(
      c,
      { resourceGroupExists: false, account: null, policy: null, nameCheck: { available: true, reason: null, message: "" } },
      [`${DEV}/Microsoft.Insights`],
    );
    expect(summary(c, l)).toEqual([
      "no-change Resource provider: Microsoft.Storage in Prod",
      "no-change Resource provider: Microsoft.Insights in Prod",
      "no-change Resource provider: Microsoft.Storage in Dev",
      "register Resource provider: Microsoft.Insights in Dev",
      "create Resource group: rg-audit (Prod)",
      "create Storage account: auditeus01 (rg-audit)",
      "create Lifecycle policy: auditeus01/default",
    ]);
    const plan = storageStep.plan(planContext(c), l);
    expect(plan[3]).toMatchObject({
      key: `storage.register:/subscriptions/${DEV}/providers/Microsoft.Insights`,
      details: ["registrationState: NotRegistered → Registered"],
    });
    expect(plan[5]?.why).toBe("Azure Monitor requires the log destination in the cluster's region (eastus)");
    expect(plan[5]?.details).toContain(
      "network rules: open to all networks (restricting was not chosen); data access still needs keys or Entra ID",
    );
    expect(plan[6]?.details).toEqual(["rule kube-audit-retention: delete insights-logs-kube-audit/ blobs 30 days after their last write"]);
  });

  it("on a tenant where everything is in place: only no-change lines, none with changes", () => {
    const c = config();
    const plan = storageStep.plan(planContext(c), live(c, {}));
    expect(plan.map((x) => x.action)).toEqual(Array(7).fill("no-change"));
    expect(plan.find((x) => x.resourceType === "Storage account")?.details).toEqual([
      "network rules: left as they are (open to all networks); restricting was not chosen",
    ]);
  });

  it("with restricted network and everything in place: the firewall line is no-change too", () => {
    const c = config({ restrictNetwork: true });
    const plan = storageStep.plan(
      planContext(c),
      live(c, {
        account: account({
          networkRules: { defaultAction: "Deny", bypass: "Logging, AzureServices", ipRules: ["198.51.100.20", "203.0.113.10"] },
        }),
      }),
    );
    expect(plan.filter((x) => x.action !== "no-change")).toEqual([]);
    expect(plan.map((x) => x.resourceType)).toContain("Storage firewall");
  });

  it("restricting our own open account: deny, vendor IPs added, stale IPs removed", () => {
    const c = config({ restrictNetwork: true });
    const plan = storageStep.plan(
      planContext(c),
      live(c, { account: account({ networkRules: { defaultAction: "Deny", bypass: "None", ipRules: ["192.0.2.1", "203.0.113.10"] } }) }),
    );
    const firewall = plan.find((x) => x.resourceType === "Storage firewall");
    expect(firewall).toMatchObject({
      action: "update",
      key: `storage.network:${storageAccountIdOf(c.storage[0] ?? { subscriptionId: "", resourceGroup: "", accountName: "" })}`,
    });
    expect(firewall?.details).toEqual(["bypass: None → AzureServices", "ipRules: +198.51.100.20", "ipRules: -192.0.2.1"]);
    expect(firewall?.why).toContain("Azure Monitor still delivers as a trusted service");
  });

  it("a new account with restricted network carries the rules in its create line", () => {
    const c = config({ restrictNetwork: true });
    const plan = storageStep.plan(
      planContext(c),
      live(c, { account: null, policy: null, nameCheck: { available: true, reason: null, message: "" } }),
    );
    expect(plan.find((x) => x.resourceType === "Storage account")?.details).toContain(
      "network rules: deny by default, allow 203.0.113.10, 198.51.100.20, bypass AzureServices",
    );
    expect(plan.some((x) => x.resourceType === "Storage firewall")).toBe(false);
  });

  it("adopting a weak account: fixes its security settings, keeps its firewall, adds our rule beside the customer's", () => {
    const c = config({}, { adopt: true, createResourceGroup: false });
    const weak = account({
      minTls: "TLS1_0",
      allowBlobPublicAccess: true,
      sku: "Standard_GRS",
      networkRules: { defaultAction: "Deny", bypass: "AzureServices", ipRules: ["192.0.2.1"] },
    });
    const other: LifecycleRule = {
      name: "customer-rule",
      enabled: true,
      blobTypes: ["blockBlob"],
      prefixMatch: ["backups/"],
      deleteAfterDays: 90,
    };
    const plan = storageStep.plan(planContext(c), live(c, { account: weak, policy: [other] }));
    const accountLine = plan.find((x) => x.resourceType === "Storage account");
    expect(accountLine).toMatchObject({ action: "update" });
    expect(accountLine?.why).toMatch(/^Adopting your account/);
    expect(accountLine?.details).toEqual([
      "minimumTlsVersion: TLS1_0 → TLS1_2",
      "allowBlobPublicAccess: true → false",
      "network rules: left as they are (deny by default, 1 IP rule, bypass AzureServices); restricting was not chosen",
    ]);
    expect(plan.find((x) => x.resourceType === "Lifecycle policy")).toMatchObject({
      action: "update",
      details: [
        "+rule kube-audit-retention: delete insights-logs-kube-audit/ blobs 30 days after their last write",
        "keeps the account's 1 other rule",
      ],
    });
  });

  it("adopting an account that already meets the baseline is an adopt line; restricting it keeps the customer's IPs", () => {
    const c = config({ restrictNetwork: true }, { adopt: true });
    const plan = storageStep.plan(
      planContext(c),
      live(c, { account: account({ networkRules: { defaultAction: "Deny", bypass: "AzureServices", ipRules: ["192.0.2.1"] } }) }),
    );
    expect(plan.find((x) => x.resourceType === "Storage account")?.action).toBe("adopt");
    expect(plan.find((x) => x.resourceType === "Storage firewall")?.details).toEqual(["ipRules: +203.0.113.10, +198.51.100.20"]);
  });

  it("a closed firewall without the trusted-services bypass gets it even when restricting was not chosen", () => {
    const c = config({}, { adopt: true });
    const plan = storageStep.plan(
      planContext(c),
      live(c, { account: account({ networkRules: { defaultAction: "Deny", bypass: "None", ipRules: ["192.0.2.1"] } }) }),
    );
    expect(plan.find((x) => x.resourceType === "Storage firewall")).toMatchObject({
      action: "update",
      details: ["bypass: None → AzureServices", "IP rules: kept as they are"],
    });
  });

  it("blocks an adopted account in another region or with a hierarchical namespace, explaining why", () => {
    const c = config({}, { adopt: true });
    const wrongRegion = storageStep
      .plan(planContext(c), live(c, { account: account({ location: "westeurope" }) }))
      .find((x) => x.resourceType === "Storage account");
    expect(wrongRegion?.details?.[0]).toMatch(
      /^Blocked: Storage account auditeus01 is in westeurope, but the clusters are in eastus: Azure Monitor only delivers logs/,
    );
    const hns = storageStep
      .plan(planContext(c), live(c, { account: account({ isHnsEnabled: true }) }))
      .find((x) => x.resourceType === "Storage account");
    expect(hns?.why).toContain("hierarchical namespace");
    const missing = storageStep
      .plan(planContext(c), live(c, { account: null, policy: null }))
      .find((x) => x.resourceType === "Storage account");
    expect(missing).toMatchObject({ action: "adopt" });
    expect(missing?.why).toContain("was not found in resource group rg-audit");
  });

  it("blocks a name taken by someone else and never plans to adopt it", () => {
    const c = config();
    const plan = storageStep.plan(
      planContext(c),
      live(c, {
        account: null,
        policy: null,
        nameCheck: { available: false, reason: "taken", message: "The storage account named auditeus01 is already taken." },
      }),
    );
    const line = plan.find((x) => x.resourceType === "Storage account");
    expect(line?.action).toBe("create");
    expect(line?.why).toBe(
      "The storage account name auditeus01 is already used by another account in Azure (names are global), and it is not in resource group rg-audit: choose another name.",
    );
    expect(plan.some((x) => x.resourceType === "Lifecycle policy")).toBe(false);
  });

  it("a changed retention updates the rule with the difference", () => {
    const c = config({ retentionDays: 45 });
    const line = storageStep.plan(planContext(c), live(c, {})).find((x) => x.resourceType === "Lifecycle policy");
    expect(line).toMatchObject({ action: "update", details: ["delete after: 30 → 45 days"] });
  });

  it("apply refuses a blocked region before any write", async () => {
    const c = config();
    const l = live(c, { account: null, policy: null, nameCheck: { available: false, reason: "taken", message: "" } });
    await expect(storageStep.apply(planContext(c), l)).rejects.toMatchObject({ name: "AzureOperationError", code: "name_taken" });
  });
});

describe("storage: tags", () => {
  it("adds managed-by to the admin's tags, and keeps the admin's own managed-by", () => {
    expect(creationTags({ restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180, tags: { costCenter: "cc-1" } })).toEqual({
      costCenter: "cc-1",
      "managed-by": "aks-onboarding-portal",
    });
    expect(
      creationTags({ restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180, tags: { "Managed-By": "platform" } }),
    ).toEqual({ "Managed-By": "platform" });
  });

  it("shows the tags on what it creates, and none on the customer's existing account", () => {
    const c = config({ tags: { costCenter: "cc-1" } });
    const created = storageStep.plan(
      planContext(c),
      live(c, { resourceGroupExists: false, account: null, policy: null, nameCheck: { available: true, reason: null, message: "" } }),
    );
    const tagLine = "tags: costCenter=cc-1, managed-by=aks-onboarding-portal";
    expect(created.find((l) => l.resourceType === "Resource group")?.details).toContain(tagLine);
    expect(created.find((l) => l.resourceType === "Storage account")?.details).toContain(tagLine);
    const adopted = storageStep.plan(planContext(config({ tags: { costCenter: "cc-1" } }, { adopt: true })), live(c, {}));
    expect(adopted.flatMap((l) => l.details ?? []).some((d) => d.startsWith("tags:"))).toBe(false);
  });
});
