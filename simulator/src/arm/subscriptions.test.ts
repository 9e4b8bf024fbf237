import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { startTestSimulator } from "../testing";
import { armClients, azureFailure, OWNER, READER, SUB_DEV, SUB_PROD } from "./test-support";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => sim.close());

describe("subscriptions and resource groups", () => {
  it("lists the subscriptions the caller holds a role on", async () => {
    const { subscriptions } = armClients(sim, OWNER);
    const ids = [];
    for await (const s of subscriptions.subscriptions.list()) ids.push(s.subscriptionId);
    expect(ids.sort()).toEqual([SUB_DEV, SUB_PROD].sort());
    const one = await subscriptions.subscriptions.get(SUB_PROD);
    expect(one.displayName).toBe("Contoso Production");
    expect(one.state).toBe("Enabled");
  });

  it("hides subscriptions without any role and answers SubscriptionNotFound", async () => {
    const state = sim.state();
    for (const r of [...state.arm.values()])
      if (
        r.type === "Microsoft.Authorization/roleAssignments" &&
        String(r.properties.principalId) === "e7cc1d54-59ea-4b6d-a97d-9fd53361c502" &&
        r.id.includes(SUB_DEV)
      )
        state.deleteArm(r.id);
    const { subscriptions } = armClients(sim, READER);
    const ids = [];
    for await (const s of subscriptions.subscriptions.list()) ids.push(s.subscriptionId);
    expect(ids).toEqual([SUB_PROD]);
    const err = await azureFailure(subscriptions.subscriptions.get(SUB_DEV));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe("SubscriptionNotFound");
  });

  it("creates a resource group for an Owner and refuses a Reader with AuthorizationFailed", async () => {
    const owner = armClients(sim, OWNER);
    const rg = await owner.resources.resourceGroups.createOrUpdate("rg-vendor-audit", { location: "eastus" });
    expect(rg.id).toBe(`/subscriptions/${SUB_PROD}/resourceGroups/rg-vendor-audit`);
    expect(rg.properties?.provisioningState).toBe("Succeeded");
    expect((await owner.resources.resourceGroups.get("RG-VENDOR-AUDIT")).name).toBe("rg-vendor-audit");
    const reader = armClients(sim, READER);
    const err = await azureFailure(reader.resources.resourceGroups.createOrUpdate("rg-nope", { location: "eastus" }));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe("AuthorizationFailed");
    expect(err.message).toBe(
      `The client '${READER}' with object id 'e7cc1d54-59ea-4b6d-a97d-9fd53361c502' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '/subscriptions/${SUB_PROD}/resourceGroups/rg-nope' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
    const missing = await azureFailure(reader.resources.resourceGroups.get("rg-missing"));
    expect(missing.code).toBe("ResourceGroupNotFound");
    expect(missing.message).toBe("Resource group 'rg-missing' could not be found.");
  });

  it("rejects a request without api-version like ARM", async () => {
    const res = await fetch(`${sim.url}/subscriptions/${SUB_PROD}/resourcegroups`, {
      headers: { authorization: `Bearer ${(await armClients(sim, OWNER).credential.getToken([]))?.token ?? ""}` },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: "MissingApiVersionParameter",
        message: "The api-version query parameter (?api-version=) is required for all requests.",
      },
    });
  });

  it("rejects api-versions the resource provider doesn't serve", async () => {
    const token = (await armClients(sim, OWNER).credential.getToken([]))?.token ?? "";
    const res = await fetch(`${sim.url}/subscriptions/${SUB_PROD}/providers/Microsoft.Storage/storageAccounts?api-version=2099-01-01`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("NoRegisteredProviderFound");
    expect(body.error.message).toContain(
      "The supported api-versions are '2022-09-01, 2023-01-01, 2023-04-01, 2023-05-01, 2024-01-01, 2025-01-01, 2025-06-01, 2025-08-01",
    );
    const unknownType = await fetch(`${sim.url}/subscriptions/${SUB_PROD}/providers/Microsoft.Storage/fileShares?api-version=2025-08-01`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(unknownType.status).toBe(404);
    expect(((await unknownType.json()) as { error: { code: string } }).error.code).toBe("InvalidResourceType");
  });

  it("lists AKS clusters with realistic bodies", async () => {
    const { aks } = armClients(sim, READER);
    const clusters = [];
    for await (const c of aks.managedClusters.list()) clusters.push(c);
    expect(clusters.map((c) => c.name).sort()).toEqual(["aks-payments-prod", "aks-web-prod-weu"]);
    const c = await aks.managedClusters.get("rg-aks-prod-eastus", "aks-payments-prod");
    expect(c.type).toBe("Microsoft.ContainerService/managedClusters");
    expect(c.location).toBe("eastus");
    expect(c.aadProfile?.managed).toBe(true);
    expect(c.aadProfile?.enableAzureRbac).toBe(true);
    expect(c.powerState?.code).toBe("Running");
    expect(c.fqdn).toMatch(/\.hcp\.eastus\.azmk8s\.io$/);
    const byRg = [];
    for await (const x of aks.managedClusters.listByResourceGroup("rg-aks-prod-westeurope")) byRg.push(x.name);
    expect(byRg).toEqual(["aks-web-prod-weu"]);
    const err = await azureFailure(aks.managedClusters.get("rg-aks-prod-eastus", "nope"));
    expect(err.code).toBe("ResourceNotFound");
  });
});
