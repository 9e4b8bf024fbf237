import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { simJson, simToken, startTestSimulator } from "../testing";
import { armClients, OWNER, READER, SUB_PROD } from "./test-support";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
  sim.state().latency = { requestMs: 0, lroMs: { storageAccount: 50, resourceGroupDelete: 300 }, replicationMs: 0 };
});
afterAll(async () => sim.close());

describe("resource group deletion", () => {
  it("answers 202 + Location, reads Deleting while it runs, then the group and everything in it are gone", async () => {
    const { resources, storage } = armClients(sim, OWNER);
    await resources.resourceGroups.createOrUpdate("rg-offboard-1", { location: "eastus" });
    await storage.storageAccounts.beginCreateAndWait("rg-offboard-1", "offboardtest01", {
      location: "eastus",
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
    });
    const listed = [];
    for await (const r of resources.resources.listByResourceGroup("rg-offboard-1")) listed.push(r.name);
    expect(listed).toEqual(["offboardtest01"]);

    const token = await simToken(sim, { upn: OWNER, resource: "arm" });
    const del = await simJson(sim, "DELETE", `/subscriptions/${SUB_PROD}/resourcegroups/rg-offboard-1?api-version=2021-04-01`, { token });
    expect(del.status).toBe(202);
    const location = del.headers.get("location") ?? "";
    expect(location).toMatch(/\/subscriptions\/.+\/operationresults\/rgdelete-/);
    expect((await resources.resourceGroups.get("rg-offboard-1")).properties?.provisioningState).toBe("Deleting");
    const poll = await simJson(sim, "GET", new URL(location).pathname + new URL(location).search, { token });
    expect(poll.status).toBe(202);

    await new Promise((r) => setTimeout(r, 400));
    expect((await simJson(sim, "GET", new URL(location).pathname + new URL(location).search, { token })).status).toBe(200);
    expect((await resources.resourceGroups.checkExistence("rg-offboard-1")).body).toBe(false);
    await expect(storage.storageAccounts.getProperties("rg-offboard-1", "offboardtest01")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("the SDK's beginDeleteAndWait follows the Location; a missing group is 404 ResourceGroupNotFound; Reader is refused", async () => {
    const { resources } = armClients(sim, OWNER);
    await resources.resourceGroups.createOrUpdate("rg-offboard-2", { location: "westeurope" });
    await resources.resourceGroups.beginDeleteAndWait("rg-offboard-2", { updateIntervalInMs: 50 });
    expect((await resources.resourceGroups.checkExistence("rg-offboard-2")).body).toBe(false);
    await expect(resources.resourceGroups.beginDeleteAndWait("rg-offboard-2")).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceGroupNotFound",
    });

    await resources.resourceGroups.createOrUpdate("rg-offboard-3", { location: "eastus" });
    await expect(armClients(sim, READER).resources.resourceGroups.beginDeleteAndWait("rg-offboard-3")).rejects.toMatchObject({
      statusCode: 403,
      code: "AuthorizationFailed",
    });
  });
});
