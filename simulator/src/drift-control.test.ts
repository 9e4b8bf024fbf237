// Control API for drift tests (POST /_sim/clusters) and the Workbench device update (PATCH) the re-check's extension uses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "./index";
import { simJson, simToken, startTestSimulator, TEST_WORKBENCH_KEY } from "./testing";
import { deviceSecret } from "./workbench";

const OWNER = "owner@contoso.onmicrosoft.com";
const SUB_PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

const newCluster = { subscriptionId: SUB_PROD, resourceGroup: "rg-aks-prod-eastus", name: "aks-new-eus", location: "eastus" };

describe("POST /_sim/clusters", () => {
  it("adds a cluster that ARM lists, is idempotent, and creates its resource group only when asked", async () => {
    const created = await simJson(sim, "POST", "/_sim/clusters", { body: newCluster });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "aks-new-eus", location: "eastus", type: "Microsoft.ContainerService/managedClusters" });
    expect((await simJson(sim, "POST", "/_sim/clusters", { body: newCluster })).status).toBe(200);

    const token = await simToken(sim, { upn: OWNER, resource: "arm" });
    const listed = await simJson(
      sim,
      "GET",
      `/subscriptions/${SUB_PROD}/providers/Microsoft.ContainerService/managedClusters?api-version=2024-09-01`,
      { token },
    );
    expect(listed.body.value.filter((c: { name: string }) => c.name === "aks-new-eus")).toHaveLength(1);

    const elsewhere = { ...newCluster, resourceGroup: "rg-aks-prod-northeurope", name: "aks-new-neu", location: "northeurope" };
    const missingGroup = await simJson(sim, "POST", "/_sim/clusters", { body: elsewhere });
    expect(missingGroup.status).toBe(404);
    expect(missingGroup.body.error.code).toBe("ResourceGroupNotFound");
    expect((await simJson(sim, "POST", "/_sim/clusters", { body: { ...elsewhere, createResourceGroup: true } })).status).toBe(201);
    const group = await simJson(sim, "GET", `/subscriptions/${SUB_PROD}/resourcegroups/rg-aks-prod-northeurope?api-version=2021-04-01`, {
      token,
    });
    expect(group.body).toMatchObject({ location: "northeurope" });
  });

  it("rejects unknown subscriptions, regions and bad bodies", async () => {
    expect(
      (await simJson(sim, "POST", "/_sim/clusters", { body: { ...newCluster, subscriptionId: "00000000-0000-4000-8000-000000000000" } }))
        .status,
    ).toBe(404);
    const bad = await simJson(sim, "POST", "/_sim/clusters", { body: { ...newCluster, location: "atlantis" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("InvalidCluster");
  });

  it("is gone after a reset", async () => {
    await simJson(sim, "POST", "/_sim/clusters", { body: newCluster });
    await simJson(sim, "POST", "/_sim/reset");
    const state = (await simJson(sim, "GET", "/_sim/state")).body;
    expect(state.arm.some((r: { name: string }) => r.name === "aks-new-eus")).toBe(false);
  });
});

describe("PATCH /workbench/api/v1/security-devices/{id}", () => {
  const PATH = "/workbench/api/v1/security-devices";
  const auth = { authorization: `Bearer ${TEST_WORKBENCH_KEY}` };

  it("changes the storage accounts and keeps the credential unless a new one is sent; refuses unknown fields", async () => {
    const created = await simJson(sim, "POST", PATH, {
      headers: auth,
      body: {
        name: "d",
        device_type: "Azure Kubernetes Service",
        credentials: {
          tenant_id: sim.state().scenario.tenant.id,
          client_id: "8d3c2b1a-6f5e-4d3c-9b2a-1f0e9d8c7b6a",
          client_secret: "Abc~secret",
        },
        storage_accounts: ["a1a1a1"],
      },
    });
    const id = created.body.id as string;
    const patched = await simJson(sim, "PATCH", `${PATH}/${id}`, { headers: auth, body: { storage_accounts: ["a1a1a1", "b2b2b2"] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, storage_accounts: ["a1a1a1", "b2b2b2"], credentials: { client_secret_hint: "Abc" } });
    expect(deviceSecret(sim.state(), id)).toBe("Abc~secret");

    const unknown = await simJson(sim, "PATCH", `${PATH}/${id}`, { headers: auth, body: { name: "renamed" } });
    expect(unknown.status).toBe(400);
    const rotated = await simJson(sim, "PATCH", `${PATH}/${id}`, { headers: auth, body: { credentials: { client_secret: "Xyz~new" } } });
    expect(rotated.body).toMatchObject({ storage_accounts: ["a1a1a1", "b2b2b2"], credentials: { client_secret_hint: "Xyz" } });
    expect(deviceSecret(sim.state(), id)).toBe("Xyz~new");
    expect((await simJson(sim, "PATCH", `${PATH}/${id}`, { headers: auth, body: { storage_accounts: [] } })).status).toBe(400);
    expect((await simJson(sim, "PATCH", `${PATH}/nope`, { headers: auth, body: { storage_accounts: ["x"] } })).status).toBe(404);
    expect((await simJson(sim, "PATCH", `${PATH}/${id}`, { body: { storage_accounts: ["x"] } })).status).toBe(401);
  });
});
