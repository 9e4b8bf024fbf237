import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { simJson, simToken, startTestSimulator } from "../testing";
import { armClients, azureFailure, OWNER, READER, SUB_DEV, SUB_PROD } from "./test-support";

const PROD = `/subscriptions/${SUB_PROD}`;
const DEV = `/subscriptions/${SUB_DEV}`;
const LEGACY = "7d3e9a41-5c2b-4f8e-a1d6-0b9c8e7f6a52";

describe("CanNotDelete locks (locks.json)", () => {
  let sim: RunningSimulator;
  let owner: string;
  beforeAll(async () => {
    sim = await startTestSimulator({ scenario: path.join("simulator", "scenarios", "locks.json") });
    sim.state().latency.lroMs.storageAccount = 50;
    owner = await simToken(sim, { upn: OWNER, resource: "arm" });
  });
  afterAll(async () => sim.close());

  it("lists locks at, above and below a scope (atScope(): at and above) for a Reader", async () => {
    const reader = await simToken(sim, { upn: READER, resource: "arm" });
    const sub = await simJson(sim, "GET", `${PROD}/providers/Microsoft.Authorization/locks?api-version=2020-05-01`, { token: reader });
    expect(sub.body.value).toEqual([
      {
        id: `${PROD}/resourceGroups/rg-aks-audit/providers/Microsoft.Authorization/locks/protect-audit-rg`,
        name: "protect-audit-rg",
        type: "Microsoft.Authorization/locks",
        properties: { level: "CanNotDelete", notes: "Security team: audit logs must not be deleted." },
      },
    ]);
    const atScope = await simJson(sim, "GET", `${PROD}/providers/Microsoft.Authorization/locks?api-version=2020-05-01&$filter=atScope()`, {
      token: reader,
    });
    expect(atScope.body.value).toEqual([]);
    const devRg = await simJson(
      sim,
      "GET",
      `${DEV}/resourceGroups/rg-aks-dev-eastus/providers/Microsoft.Authorization/locks?api-version=2016-09-01`,
      { token: reader },
    );
    expect(devRg.body.value.map((l: { name: string }) => l.name)).toEqual(["subscription-no-delete"]);
  });

  it("lets writes through but refuses deletes at or under the locked scope with 409 ScopeLocked", async () => {
    const { storage } = armClients(sim, OWNER);
    await storage.storageAccounts.create("rg-aks-audit", "contosolocked01", {
      location: "eastus",
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
    });
    const policy = {
      policy: {
        rules: [
          {
            name: "r",
            type: "Lifecycle" as const,
            definition: {
              filters: { blobTypes: ["appendBlob"] },
              actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 7 } } },
            },
          },
        ],
      },
    };
    await storage.managementPolicies.createOrUpdate("rg-aks-audit", "contosolocked01", "default", policy);
    const accountId = `${PROD}/resourceGroups/rg-aks-audit/providers/Microsoft.Storage/storageAccounts/contosolocked01`;
    const del = await simJson(sim, "DELETE", `${accountId}?api-version=2025-08-01`, { token: owner });
    expect(del.status).toBe(409);
    expect(del.body.error).toEqual({
      code: "ScopeLocked",
      message: `The scope '${accountId}' cannot perform delete operation because following scope(s) are locked: '${PROD}/resourceGroups/rg-aks-audit'. Please remove the lock and try again.`,
    });
    const mp = await azureFailure(storage.managementPolicies.delete("rg-aks-audit", "contosolocked01", "default"));
    expect(mp).toMatchObject({ statusCode: 409, code: "ScopeLocked" });
    const rg = await simJson(sim, "DELETE", `${PROD}/resourcegroups/rg-aks-audit?api-version=2025-04-01`, { token: owner });
    expect(rg.body.error.code).toBe("ScopeLocked");
    expect((await storage.storageAccounts.getProperties("rg-aks-audit", "contosolocked01")).name).toBe("contosolocked01");
    // Other groups in the subscription are not locked.
    await storage.storageAccounts.create("rg-aks-prod-eastus", "contosofree01", {
      location: "eastus",
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
    });
    expect(
      (
        await simJson(
          sim,
          "DELETE",
          `${PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.Storage/storageAccounts/contosofree01?api-version=2025-08-01`,
          { token: owner },
        )
      ).status,
    ).toBe(200);
  });

  it("a subscription lock blocks deleting role assignments and diagnostic settings (extension resources) too", async () => {
    const seeded = await simJson(sim, "GET", `${DEV}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`, {
      token: owner,
    });
    const assignment = seeded.body.value[0] as { id: string };
    const del = await simJson(sim, "DELETE", `${assignment.id}?api-version=2022-04-01`, { token: owner });
    expect(del.status).toBe(409);
    expect(del.body.error.message).toContain(`following scope(s) are locked: '${DEV}'`);
    const cluster = `${DEV}/resourceGroups/rg-aks-dev-westeurope/providers/Microsoft.ContainerService/managedClusters/aks-sandbox-weu`;
    const setting = await simJson(
      sim,
      "DELETE",
      `${cluster}/providers/Microsoft.Insights/diagnosticSettings/send-to-log-analytics?api-version=2021-05-01-preview`,
      { token: owner },
    );
    expect(setting.body.error.code).toBe("ScopeLocked");
  });

  it("a lock on a resource blocks deleting its resource group", async () => {
    const scenario = sim.state().scenario;
    const accountId = `${PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.Storage/storageAccounts/contosoheld`;
    const prod = scenario.subscriptions[0];
    if (!prod) throw new Error("no subscription");
    await sim.reset({
      ...scenario,
      subscriptions: [
        {
          ...prod,
          storageAccounts: [
            { name: "contosoheld", resourceGroup: "rg-aks-prod-eastus", location: "eastus", networkDefaultAction: "Allow" },
          ],
        },
        ...scenario.subscriptions.slice(1),
      ],
      locks: [{ name: "hold", scope: accountId, level: "CanNotDelete" }],
    });
    const rg = await simJson(sim, "DELETE", `${PROD}/resourceGroups/rg-aks-prod-eastus?api-version=2025-04-01`, { token: owner });
    expect(rg.status).toBe(409);
    expect(rg.body.error.message).toBe(
      `The scope '${PROD}/resourceGroups/rg-aks-prod-eastus' cannot perform delete operation because following scope(s) are locked: '${accountId}'. Please remove the lock and try again.`,
    );
    // A lock below is no obstacle to writes above it.
    expect(
      (
        await simJson(sim, "PUT", `${PROD}/resourcegroups/rg-aks-prod-eastus?api-version=2025-04-01`, {
          token: owner,
          body: { location: "eastus" },
        })
      ).status,
    ).toBe(200);
  });

  it("a ReadOnly lock refuses writes as well", async () => {
    const scenario = sim.state().scenario;
    await sim.reset({ ...scenario, locks: [{ name: "freeze", scope: `${PROD}/resourceGroups/rg-aks-prod-eastus`, level: "ReadOnly" }] });
    const put = await simJson(
      sim,
      "PUT",
      `${PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.Storage/storageAccounts/contosofrozen?api-version=2025-08-01`,
      {
        token: owner,
        body: { location: "eastus", kind: "StorageV2", sku: { name: "Standard_LRS" } },
      },
    );
    expect(put.status).toBe(409);
    expect(put.body.error.message).toContain("cannot perform write operation because following scope(s) are locked");
  });
});

describe("a disabled subscription (disabled-subscription.json)", () => {
  let sim: RunningSimulator;
  let owner: string;
  beforeAll(async () => {
    sim = await startTestSimulator({ scenario: path.join("simulator", "scenarios", "disabled-subscription.json") });
    owner = await simToken(sim, { upn: OWNER, resource: "arm" });
  });
  afterAll(async () => sim.close());

  it("is listed with state Disabled and still answers reads", async () => {
    const { subscriptions } = armClients(sim, OWNER);
    const states: Record<string, string | undefined> = {};
    for await (const s of subscriptions.subscriptions.list()) states[s.subscriptionId ?? ""] = s.state;
    expect(states).toEqual({ [SUB_PROD]: "Enabled", [SUB_DEV]: "Enabled", [LEGACY]: "Disabled" });
    const clusters = await simJson(
      sim,
      "GET",
      `/subscriptions/${LEGACY}/providers/Microsoft.ContainerService/managedClusters?api-version=2026-04-01`,
      { token: owner },
    );
    expect(clusters.body.value.map((c: { name: string }) => c.name)).toEqual(["aks-legacy-eastus"]);
  });

  it("refuses every write with 409 ReadOnlyDisabledSubscription", async () => {
    const message = `The subscription '${LEGACY}' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled.`;
    const writes: [string, string, unknown?][] = [
      ["PUT", `/subscriptions/${LEGACY}/resourcegroups/rg-aks-audit?api-version=2025-04-01`, { location: "eastus" }],
      ["POST", `/subscriptions/${LEGACY}/providers/Microsoft.Storage/register?api-version=2025-04-01`],
      [
        "POST",
        `/subscriptions/${LEGACY}/providers/Microsoft.Storage/checkNameAvailability?api-version=2025-08-01`,
        { name: "contosolegacy01", type: "Microsoft.Storage/storageAccounts" },
      ],
      ["DELETE", `/subscriptions/${LEGACY}/resourcegroups/rg-aks-legacy-eastus?api-version=2025-04-01`],
    ];
    for (const [method, url, body] of writes) {
      const res = await simJson(sim, method, url, { token: owner, body });
      expect(res.status, `${method} ${url}`).toBe(409);
      expect(res.body.error).toEqual({ code: "ReadOnlyDisabledSubscription", message });
    }
    expect(
      (
        await simJson(sim, "PUT", `/subscriptions/${SUB_PROD}/resourcegroups/rg-aks-audit?api-version=2025-04-01`, {
          token: owner,
          body: { location: "eastus" },
        })
      ).status,
    ).toBe(201);
  });
});
