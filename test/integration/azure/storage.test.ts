// lib/azure storage, resource group and provider operations against the simulated ARM.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkStorageAccountName } from "../../../lib/azure/check-storage-account-name";
import { createStorageAccount } from "../../../lib/azure/create-storage-account";
import { ensureResourceGroup } from "../../../lib/azure/ensure-resource-group";
import { classifyAzureError } from "../../../lib/azure/errors";
import { getManagementPolicy } from "../../../lib/azure/get-management-policy";
import { getProviderRegistration } from "../../../lib/azure/get-provider-registration";
import { getStorageAccount } from "../../../lib/azure/get-storage-account";
import { putManagementPolicy } from "../../../lib/azure/put-management-policy";
import { registerProvider } from "../../../lib/azure/register-provider";
import { updateStorageNetworkRules } from "../../../lib/azure/update-storage-network-rules";
import type { RunningSimulator } from "../../../simulator/src/index";
import {
  armOfType,
  armRaw,
  azureError,
  clearRequests,
  OWNER,
  READER,
  setFaults,
  simRequests,
  startSimForPortal,
  SUB_DEV,
  SUB_PROD,
  userCredential,
} from "./support";

let sim: RunningSimulator;
const RG = "rg-vendor-audit-eastus";
const ACCOUNT = "contosoaudit01eus";
const owner = () => userCredential(sim, OWNER, "arm");
const reader = () => userCredential(sim, READER, "arm");

beforeAll(async () => {
  sim = await startSimForPortal();
});
afterAll(async () => sim.close());

describe("resource group and storage account", () => {
  it("creates the resource group once, then adopts it", async () => {
    const first = await ensureResourceGroup(owner(), SUB_PROD, RG, "eastus", { managedBy: "aks-audit-portal" });
    expect(first).toMatchObject({ name: RG, location: "eastus", created: true });
    const second = await ensureResourceGroup(owner(), SUB_PROD, RG, "westeurope");
    expect(second).toMatchObject({ id: first.id, location: "eastus", created: false });
    const groups = (await armOfType(sim, "Microsoft.Resources/resourceGroups")).filter((g) => g.name === RG);
    expect(groups).toHaveLength(1);
  });

  it("creates the account with the secure baseline and the vendor's IP restriction, then adopts it", async () => {
    expect(await getStorageAccount(owner(), SUB_PROD, RG, ACCOUNT)).toBeNull();
    const created = await createStorageAccount(owner(), SUB_PROD, RG, {
      name: ACCOUNT,
      location: "eastus",
      allowedIps: ["203.0.113.7/32"],
    });
    expect(created).toMatchObject({
      name: ACCOUNT,
      location: "eastus",
      kind: "StorageV2",
      sku: "Standard_LRS",
      isHnsEnabled: false,
      httpsOnly: true,
      minTls: "TLS1_2",
      allowBlobPublicAccess: false,
      allowCrossTenantReplication: false,
      networkRules: { defaultAction: "Deny", bypass: "AzureServices", ipRules: ["203.0.113.7"] },
      provisioningState: "Succeeded",
    });
    expect(created.blobEndpoint).toContain(`/${ACCOUNT}/`);
    expect(created.id).toBe(`/subscriptions/${SUB_PROD}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}`);

    const put = (await simRequests(sim)).find((r) => r.method === "PUT" && r.url.includes(`/storageAccounts/${ACCOUNT}?`));
    expect(put?.body).toMatchObject({
      properties: { networkAcls: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [{ value: "203.0.113.7", action: "Allow" }] } },
    });

    const again = await createStorageAccount(owner(), SUB_PROD, RG, { name: ACCOUNT, location: "eastus", allowedIps: ["203.0.113.7"] });
    expect(again.id).toBe(created.id);
    expect(await getStorageAccount(owner(), SUB_PROD, RG, ACCOUNT)).toEqual(again);
    const accounts = (await armOfType(sim, "Microsoft.Storage/storageAccounts")).filter((a) => a.name === ACCOUNT);
    expect(accounts).toHaveLength(1);
  });

  it("opens and restricts the firewall on an existing account", async () => {
    const opened = await updateStorageNetworkRules(owner(), SUB_PROD, RG, ACCOUNT, undefined);
    expect(opened.networkRules).toEqual({ defaultAction: "Allow", bypass: "AzureServices", ipRules: [] });
    const restricted = await updateStorageNetworkRules(owner(), SUB_PROD, RG, ACCOUNT, ["198.51.100.0/24", "203.0.113.9"]);
    expect(restricted.networkRules).toEqual({
      defaultAction: "Deny",
      bypass: "AzureServices",
      ipRules: ["198.51.100.0/24", "203.0.113.9"],
    });
    expect(restricted.minTls).toBe("TLS1_2");
  });

  it("reports names as available, invalid or taken (also our own account)", async () => {
    expect(await checkStorageAccountName(owner(), SUB_PROD, "contosofree01")).toEqual({ available: true, reason: null, message: "" });
    expect(await checkStorageAccountName(owner(), SUB_PROD, "Bad_Name")).toMatchObject({ available: false, reason: "invalid" });
    expect(await checkStorageAccountName(owner(), SUB_PROD, "aksaudit")).toMatchObject({
      available: false,
      reason: "taken",
      message: "The storage account named aksaudit is already taken.",
    });
    expect(await checkStorageAccountName(owner(), SUB_PROD, ACCOUNT)).toMatchObject({ available: false, reason: "taken" });
  });

  it("maps a name taken elsewhere and an invalid name on create", async () => {
    const taken = await azureError(createStorageAccount(owner(), SUB_PROD, RG, { name: "aksaudit", location: "eastus" }));
    expect(taken).toMatchObject({ code: "name_taken", azureCode: "StorageAccountAlreadyTaken", status: 409 });
    expect(classifyAzureError(taken)).toBe("permanent");
    const invalid = await azureError(createStorageAccount(owner(), SUB_PROD, RG, { name: "Bad_Name", location: "eastus" }));
    expect(invalid).toMatchObject({ code: "name_invalid", azureCode: "AccountNameInvalid" });
  });

  it("tells a Reader they need Contributor, without creating anything", async () => {
    const error = await azureError(createStorageAccount(reader(), SUB_PROD, RG, { name: "contosoreader01", location: "eastus" }));
    expect(error.code).toBe("forbidden");
    expect(error.azureCode).toBe("AuthorizationFailed");
    expect(error.message).toContain("Contributor");
    expect(error.message).not.toContain("{");
    const rgError = await azureError(ensureResourceGroup(reader(), SUB_PROD, "rg-reader-new", "eastus"));
    expect(rgError.code).toBe("forbidden");
    expect((await armOfType(sim, "Microsoft.Storage/storageAccounts")).map((a) => a.name)).not.toContain("contosoreader01");
  });
});

describe("lifecycle policy", () => {
  it("is absent at first, then holds exactly one kube-audit rule across re-runs", async () => {
    expect(await getManagementPolicy(owner(), SUB_PROD, RG, ACCOUNT)).toBeNull();
    const first = await putManagementPolicy(owner(), SUB_PROD, RG, ACCOUNT, 30);
    expect(first).toEqual([
      {
        name: "kube-audit-retention",
        enabled: true,
        blobTypes: ["appendBlob", "blockBlob"],
        prefixMatch: ["insights-logs-kube-audit/"],
        deleteAfterDays: 30,
      },
    ]);
    await putManagementPolicy(owner(), SUB_PROD, RG, ACCOUNT, 45);
    const read = await getManagementPolicy(owner(), SUB_PROD, RG, ACCOUNT);
    expect(read).toHaveLength(1);
    expect(read?.[0]?.deleteAfterDays).toBe(45);
    const policies = await armOfType(sim, "Microsoft.Storage/storageAccounts/managementPolicies");
    expect(policies).toHaveLength(1);
  });

  it("refuses a retention under 7 days before calling Azure", async () => {
    await clearRequests(sim);
    const error = await azureError(putManagementPolicy(owner(), SUB_PROD, RG, ACCOUNT, 3));
    expect(error.code).toBe("invalid_request");
    expect(await simRequests(sim)).toEqual([]);
  });
});

describe("resource providers", () => {
  it("reads registration state", async () => {
    expect(await getProviderRegistration(owner(), SUB_PROD, "Microsoft.Insights")).toEqual({
      namespace: "Microsoft.Insights",
      state: "Registered",
      registered: true,
    });
    expect((await getProviderRegistration(owner(), SUB_DEV, "Microsoft.Insights")).registered).toBe(false);
  });

  it("maps an unregistered Microsoft.Storage, then registers it and waits until Registered", async () => {
    const unregister = await armRaw(
      sim,
      OWNER,
      "POST",
      `/subscriptions/${SUB_DEV}/providers/Microsoft.Storage/unregister?api-version=2025-04-01`,
    );
    expect(unregister.status).toBe(200);
    await ensureResourceGroup(owner(), SUB_DEV, "rg-vendor-audit-dev", "eastus");
    const error = await azureError(
      createStorageAccount(owner(), SUB_DEV, "rg-vendor-audit-dev", { name: "contosodevaudit01", location: "eastus" }),
    );
    expect(error).toMatchObject({ code: "provider_not_registered", azureCode: "MissingSubscriptionRegistration" });
    expect(error.message).toContain("Microsoft.Storage");
    expect(classifyAzureError(error)).toBe("permanent");

    const registered = await registerProvider(owner(), SUB_DEV, "Microsoft.Storage", { pollIntervalMs: 100, timeoutMs: 10_000 });
    expect(registered).toMatchObject({ state: "Registered", registered: true });
    const polls = (await simRequests(sim)).filter(
      (r) => r.method === "GET" && r.url.includes(`/subscriptions/${SUB_DEV}/providers/Microsoft.Storage?`),
    );
    expect(polls.length).toBeGreaterThan(1);
    expect(await registerProvider(owner(), SUB_DEV, "Microsoft.Storage")).toMatchObject({ registered: true });
  });

  it("gives up with a transient provider_registering error when registration outlasts the bound", async () => {
    await armRaw(sim, OWNER, "POST", `/subscriptions/${SUB_DEV}/providers/Microsoft.Storage/unregister?api-version=2025-04-01`);
    const error = await azureError(registerProvider(owner(), SUB_DEV, "Microsoft.Storage", { pollIntervalMs: 50, timeoutMs: 100 }));
    expect(error.code).toBe("provider_registering");
    expect(classifyAzureError(error)).toBe("transient");
  });

  it("tells a Reader that registering needs the register action", async () => {
    const error = await azureError(registerProvider(reader(), SUB_DEV, "Microsoft.Insights", { pollIntervalMs: 50, timeoutMs: 1000 }));
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("Microsoft.Insights/register/action");
  });
});

describe("throttling", () => {
  it("surfaces ARM 429s that outlast the SDK's retries as throttled, a transient error", async () => {
    await setFaults(sim, { rate: 1, kinds: ["429"], seed: 5 });
    try {
      const error = await azureError(getStorageAccount(owner(), SUB_PROD, RG, ACCOUNT));
      expect(error).toMatchObject({ code: "throttled", status: 429 });
      expect(classifyAzureError(error)).toBe("transient");
    } finally {
      await setFaults(sim, { rate: 0 });
    }
    expect((await getStorageAccount(owner(), SUB_PROD, RG, ACCOUNT))?.name).toBe(ACCOUNT);
  });
});
