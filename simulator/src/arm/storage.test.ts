import type { StorageAccountCreateParameters } from "@azure/arm-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { startTestSimulator } from "../testing";
import { armClients, azureFailure, OWNER, READER, SUB_DEV, SUB_PROD } from "./test-support";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
  sim.state().latency = { requestMs: 0, lroMs: { storageAccount: 200, providerRegistration: 1000 }, replicationMs: 300 };
});
afterAll(async () => sim.close());

const secureAccount: StorageAccountCreateParameters = {
  location: "eastus",
  kind: "StorageV2",
  sku: { name: "Standard_LRS" },
  minimumTlsVersion: "TLS1_2",
  allowBlobPublicAccess: false,
  enableHttpsTrafficOnly: true,
  allowCrossTenantReplication: false,
  publicNetworkAccess: "Enabled",
  networkRuleSet: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [{ iPAddressOrRange: "203.0.113.7", action: "Allow" }] },
};

describe("storage accounts", () => {
  it("checks names: invalid, taken by another customer, free", async () => {
    const { storage } = armClients(sim, OWNER);
    const invalid = await storage.storageAccounts.checkNameAvailability({ name: "Bad_Name", type: "Microsoft.Storage/storageAccounts" });
    expect(invalid).toMatchObject({
      nameAvailable: false,
      reason: "AccountNameInvalid",
      message:
        "Bad_Name is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.",
    });
    const taken = await storage.storageAccounts.checkNameAvailability({ name: "aksaudit", type: "Microsoft.Storage/storageAccounts" });
    expect(taken).toMatchObject({
      nameAvailable: false,
      reason: "AlreadyExists",
      message: "The storage account named aksaudit is already taken.",
    });
    const free = await storage.storageAccounts.checkNameAvailability({
      name: "contosoaksaudit01",
      type: "Microsoft.Storage/storageAccounts",
    });
    expect(free.nameAvailable).toBe(true);
  });

  it("creates an account through the LRO with its secure properties, then reports the name taken", async () => {
    const { storage } = armClients(sim, OWNER);
    const created: string[] = [];
    sim.state().events.on("storageAccountCreated", (a) => created.push(a.name));
    const poller = storage.storageAccounts.create("rg-aks-prod-eastus", "contosoaksaudit01", secureAccount);
    const account = await poller;
    expect(account.provisioningState).toBe("Succeeded");
    expect(account.minimumTlsVersion).toBe("TLS1_2");
    expect(account.allowBlobPublicAccess).toBe(false);
    expect(account.enableHttpsTrafficOnly).toBe(true);
    expect(account.allowCrossTenantReplication).toBe(false);
    expect(account.networkRuleSet?.defaultAction).toBe("Deny");
    expect(account.networkRuleSet?.bypass).toBe("AzureServices");
    expect(account.networkRuleSet?.ipRules?.[0]?.iPAddressOrRange).toBe("203.0.113.7");
    expect(account.primaryEndpoints?.blob).toBe(`${sim.state().blobBaseUrl}/contosoaksaudit01/`);
    expect(created).toEqual(["contosoaksaudit01"]);
    const again = await storage.storageAccounts.checkNameAvailability({
      name: "contosoaksaudit01",
      type: "Microsoft.Storage/storageAccounts",
    });
    expect(again.reason).toBe("AlreadyExists");
    const keys = await storage.storageAccounts.listKeys("rg-aks-prod-eastus", "contosoaksaudit01");
    expect(keys.keys?.[0]?.value).toBe(sim.state().storageKey("contosoaksaudit01"));
    const names = [];
    for await (const a of storage.storageAccounts.listByResourceGroup("rg-aks-prod-eastus")) names.push(a.name);
    expect(names).toEqual(["contosoaksaudit01"]);
  });

  it("answers the create with 202 + Location/Azure-AsyncOperation + Retry-After", async () => {
    const token = (await armClients(sim, OWNER).credential.getToken([]))?.token ?? "";
    sim.state().latency.lroMs.storageAccount = 5000;
    const res = await fetch(
      `${sim.url}/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-westeurope/providers/Microsoft.Storage/storageAccounts/contosoweu01?api-version=2025-08-01`,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ location: "westeurope", kind: "StorageV2", sku: { name: "Standard_LRS" } }),
      },
    );
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toContain("/providers/Microsoft.Storage/locations/westeurope/asyncoperations/");
    expect(res.headers.get("azure-asyncoperation")).toContain("/asyncoperations/");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const status = await fetch(res.headers.get("azure-asyncoperation") ?? "", { headers: { authorization: `Bearer ${token}` } });
    expect(((await status.json()) as { status: string }).status).toBe("InProgress");
    const monitor = await fetch(res.headers.get("location") ?? "", { headers: { authorization: `Bearer ${token}` } });
    expect(monitor.status).toBe(202);
    sim.state().latency.lroMs.storageAccount = 200;
  });

  it("updates network rules with PATCH and an existing account with PUT", async () => {
    const { storage } = armClients(sim, OWNER);
    // arm-storage 20's update serializer drops `properties` unless a property it spells correctly (e.g. minimumTlsVersion)
    // is set: networkRuleSet alone is silently not sent.
    const patched = await storage.storageAccounts.update("rg-aks-prod-eastus", "contosoaksaudit01", {
      minimumTlsVersion: "TLS1_2",
      networkRuleSet: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [{ iPAddressOrRange: "198.51.100.0/24" }] },
    });
    expect(patched.networkRuleSet?.ipRules?.map((r) => r.iPAddressOrRange)).toEqual(["198.51.100.0/24"]);
    const put = await storage.storageAccounts.create("rg-aks-prod-eastus", "contosoaksaudit01", {
      ...secureAccount,
      tags: { owner: "vendor" },
    });
    expect(put.tags).toEqual({ owner: "vendor" });
    // A second create with az's encryption stub (az storage account create) leaves encryption at rest as it was.
    const again = await storage.storageAccounts.create("rg-aks-prod-eastus", "contosoaksaudit01", {
      ...secureAccount,
      encryption: { keySource: "Microsoft.Storage", services: { blob: {} } },
    });
    expect(again.encryption).toMatchObject({
      keySource: "Microsoft.Storage",
      requireInfrastructureEncryption: false,
      services: { blob: { enabled: true, keyType: "Account" }, file: { enabled: true, keyType: "Account" } },
    });
  });

  it("rejects private IP rules, bad kinds and HNS on a classic kind with the storage RP's error", async () => {
    const { storage } = armClients(sim, OWNER);
    const privateIp = await azureFailure(
      storage.storageAccounts.create("rg-aks-prod-eastus", "contosopriv01", {
        ...secureAccount,
        networkRuleSet: { defaultAction: "Deny", ipRules: [{ iPAddressOrRange: "10.1.2.3" }] },
      }),
    );
    expect(privateIp.statusCode).toBe(400);
    expect(privateIp.code).toBe("InvalidValuesForRequestParameters");
    expect(privateIp.message).toBe(
      "Values for request parameters are invalid: networkAcls.ipRule[*].value. For more information, see - https://aka.ms/storagenetworkruleset",
    );
    const slash32 = await azureFailure(
      storage.storageAccounts.update("rg-aks-prod-eastus", "contosoaksaudit01", {
        minimumTlsVersion: "TLS1_2",
        networkRuleSet: { defaultAction: "Deny", ipRules: [{ iPAddressOrRange: "203.0.113.7/32" }] },
      }),
    );
    expect(slash32.code).toBe("InvalidValuesForRequestParameters");
    const hns = await azureFailure(
      storage.storageAccounts.create("rg-aks-prod-eastus", "contosohns01", { ...secureAccount, kind: "Storage", isHnsEnabled: true }),
    );
    expect(hns.code).toBe("InvalidValuesForRequestParameters");
    const taken = await azureFailure(storage.storageAccounts.create("rg-aks-prod-eastus", "kubeaudit", secureAccount));
    expect(taken).toMatchObject({ statusCode: 409, code: "StorageAccountAlreadyTaken" });
    const loc = await azureFailure(
      storage.storageAccounts.create("rg-aks-prod-eastus", "contosoloc01", { ...secureAccount, location: "moon" }),
    );
    expect(loc.code).toBe("LocationNotAvailableForResourceType");
  });

  it("needs Microsoft.Storage registered (name check 404 SubscriptionNotFound, create 409); registration goes Registering → Registered", async () => {
    const state = sim.state();
    const provider = state.getArm(`/subscriptions/${SUB_DEV}/providers/Microsoft.Storage`);
    if (!provider) throw new Error("provider missing");
    provider.properties.registrationState = "NotRegistered";
    const dev = armClients(sim, OWNER, SUB_DEV);
    const err = await azureFailure(dev.storage.storageAccounts.create("rg-aks-dev-eastus", "contosodev01", secureAccount));
    expect(err).toMatchObject({ statusCode: 409, code: "MissingSubscriptionRegistration" });
    expect(err.message).toBe(
      "The subscription is not registered to use namespace 'Microsoft.Storage'. See https://aka.ms/rps-not-found for how to register subscriptions.",
    );
    const check = await azureFailure(
      dev.storage.storageAccounts.checkNameAvailability({ name: "contosodev01", type: "Microsoft.Storage/storageAccounts" }),
    );
    expect(check).toMatchObject({ statusCode: 404, code: "SubscriptionNotFound", message: `Subscription ${SUB_DEV} was not found.` });
    const readerErr = await azureFailure(armClients(sim, READER, SUB_DEV).resources.providers.register("Microsoft.Storage"));
    expect(readerErr.code).toBe("AuthorizationFailed");
    expect(readerErr.message).toContain("'Microsoft.Storage/register/action'");
    const registering = await dev.resources.providers.register("Microsoft.Storage");
    expect(registering.registrationState).toBe("Registering");
    expect((await dev.resources.providers.get("Microsoft.Storage")).registrationState).toBe("Registering");
    await new Promise((r) => setTimeout(r, 1100));
    expect((await dev.resources.providers.get("microsoft.storage")).registrationState).toBe("Registered");
    const free = await dev.storage.storageAccounts.checkNameAvailability({
      name: "contosodev01",
      type: "Microsoft.Storage/storageAccounts",
    });
    expect(free.nameAvailable).toBe(true);
    const account = await dev.storage.storageAccounts.create("rg-aks-dev-eastus", "contosodev01", secureAccount);
    expect(account.provisioningState).toBe("Succeeded");
  });

  it("keeps a lifecycle policy named default with delete-only rules for append blobs", async () => {
    const { storage } = armClients(sim, OWNER);
    const policy = {
      policy: {
        rules: [
          {
            name: "kube-audit-retention",
            enabled: true,
            type: "Lifecycle" as const,
            definition: {
              filters: { blobTypes: ["appendBlob", "blockBlob"], prefixMatch: ["insights-logs-kube-audit/"] },
              actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 7 } } },
            },
          },
        ],
      },
    };
    const saved = await storage.managementPolicies.createOrUpdate("rg-aks-prod-eastus", "contosoaksaudit01", "default", policy);
    expect(saved.policy?.rules?.[0]?.name).toBe("kube-audit-retention");
    const read = await storage.managementPolicies.get("rg-aks-prod-eastus", "contosoaksaudit01", "default");
    expect(read.policy?.rules?.[0]?.definition?.actions?.baseBlob?.delete?.daysAfterModificationGreaterThan).toBe(7);
    const tier = await azureFailure(
      storage.managementPolicies.createOrUpdate("rg-aks-prod-eastus", "contosoaksaudit01", "default", {
        policy: {
          rules: [
            {
              name: "tier",
              type: "Lifecycle",
              definition: {
                filters: { blobTypes: ["appendBlob"] },
                actions: { baseBlob: { tierToCool: { daysAfterModificationGreaterThan: 1 } } },
              },
            },
          ],
        },
      }),
    );
    expect(tier.statusCode).toBe(400);
    await storage.managementPolicies.delete("rg-aks-prod-eastus", "contosoaksaudit01", "default");
    const gone = await azureFailure(storage.managementPolicies.get("rg-aks-prod-eastus", "contosoaksaudit01", "default"));
    expect(gone.statusCode).toBe(404);
  });

  it("refuses a Reader's create and deletes for an Owner (event emitted)", async () => {
    const reader = armClients(sim, READER);
    const err = await azureFailure(reader.storage.storageAccounts.create("rg-aks-prod-eastus", "readeracct01", secureAccount));
    expect(err).toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    const deleted: string[] = [];
    sim.state().events.on("storageAccountDeleted", (a) => deleted.push(a.name));
    const { storage } = armClients(sim, OWNER);
    await storage.storageAccounts.delete("rg-aks-prod-eastus", "contosoaksaudit01");
    expect(deleted).toEqual(["contosoaksaudit01"]);
    const missing = await azureFailure(storage.storageAccounts.getProperties("rg-aks-prod-eastus", "contosoaksaudit01"));
    expect(missing.code).toBe("ResourceNotFound");
    expect(missing.message).toBe(
      "The Resource 'Microsoft.Storage/storageAccounts/contosoaksaudit01' under resource group 'rg-aks-prod-eastus' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    );
  });
});
