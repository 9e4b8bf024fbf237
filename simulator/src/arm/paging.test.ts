import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { loadScenario } from "../index";
import { simJson, simToken, startTestSimulator } from "../testing";
import { armClients, OWNER, SUB_PROD } from "./test-support";

const LARGE = loadScenario(path.join("simulator", "scenarios", "large-estate-150.json"));

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator({ scenario: LARGE });
});
afterAll(async () => sim.close());

/** GET requests the simulator logged whose URL matches, since the last clear. */
async function gets(match: RegExp): Promise<string[]> {
  const log = await simJson(sim, "GET", "/_sim/requests");
  return (log.body as { method: string; url: string }[]).filter((r) => r.method === "GET" && match.test(r.url)).map((r) => r.url);
}

describe("nextLink paging", () => {
  it("SubscriptionClient walks all 150 subscriptions through 50-item pages", async () => {
    await simJson(sim, "DELETE", "/_sim/requests");
    const { subscriptions } = armClients(sim, OWNER);
    const ids: string[] = [];
    for await (const s of subscriptions.subscriptions.list()) ids.push(s.subscriptionId ?? "");
    expect(new Set(ids).size).toBe(150);
    expect(ids.sort()).toEqual(LARGE.subscriptions.map((s) => s.id).sort());
    const pages = await gets(/\/subscriptions\?/);
    expect(pages).toHaveLength(3);
    expect(pages.slice(1).every((u) => u.includes("skiptoken"))).toBe(true);
  });

  it("answers the x-ms-pageable shape: an absolute nextLink on the simulator that keeps api-version and $filter", async () => {
    const token = await simToken(sim, { upn: OWNER, resource: "arm" });
    const first = await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token });
    expect(first.body.value).toHaveLength(50);
    const next = new URL(first.body.nextLink as string);
    expect(`${next.protocol}//${next.host}`).toBe(sim.url);
    expect(next.searchParams.get("api-version")).toBe("2022-12-01");
    expect(next.searchParams.get("$skiptoken")).toBeTruthy();
    const last = await simJson(
      sim,
      "GET",
      `/subscriptions?api-version=2022-12-01&$skiptoken=${encodeURIComponent(Buffer.from("p100").toString("base64url"))}`,
      { token },
    );
    expect(last.body.value).toHaveLength(50);
    expect(last.body.nextLink).toBeUndefined();
    const bad = await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01&$skiptoken=nonsense", { token });
    expect(bad.status).toBe(400);
  });

  it("pages managed clusters by subscription and by resource group (2 per page)", async () => {
    const five = LARGE.subscriptions.find((s) => s.clusters.length === 5);
    if (!five) throw new Error("scenario has no 5-cluster subscription");
    await simJson(sim, "DELETE", "/_sim/requests");
    const { aks } = armClients(sim, OWNER, five.id);
    const names: string[] = [];
    for await (const c of aks.managedClusters.list()) names.push(c.name ?? "");
    expect(names.sort()).toEqual(five.clusters.map((c) => c.name).sort());
    const inGroup: string[] = [];
    for await (const c of aks.managedClusters.listByResourceGroup(five.resourceGroups[0]?.name ?? "")) inGroup.push(c.name ?? "");
    expect(inGroup).toHaveLength(5);
    expect(await gets(/managedClusters\?/i)).toHaveLength(6);
  });
});

describe("paging of storage accounts, role assignments and policy assignments", () => {
  it("walks every list to the end", async () => {
    const scenario = loadScenario(path.join("simulator", "scenarios", "policy-deny.json"));
    scenario.paging = { pageSize: 2, byList: {} };
    const prod = scenario.subscriptions[0];
    if (!prod) throw new Error("no subscription");
    prod.storageAccounts = ["contosoone", "contosotwo", "contosothree"].map((name) => ({
      name,
      resourceGroup: "rg-aks-prod-eastus",
      location: "eastus",
      networkDefaultAction: "Deny" as const,
    }));
    await sim.reset(scenario);
    await simJson(sim, "DELETE", "/_sim/requests");
    const { storage, authorization } = armClients(sim, OWNER, SUB_PROD);
    const accounts: string[] = [];
    for await (const a of storage.storageAccounts.list()) accounts.push(a.name ?? "");
    expect(accounts.sort()).toEqual(["contosoone", "contosothree", "contosotwo"]);
    const assignments: string[] = [];
    for await (const a of authorization.roleAssignments.listForSubscription()) assignments.push(a.name ?? "");
    expect(assignments).toHaveLength(3);
    expect(await gets(/Microsoft.Storage\/storageAccounts\?/)).toHaveLength(2);
    expect(await gets(/roleAssignments\?/)).toHaveLength(2);

    const token = await simToken(sim, { upn: OWNER, resource: "arm" });
    const policy: string[] = [];
    let url: string | undefined = `/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/policyAssignments?api-version=2023-04-01`;
    let pages = 0;
    while (url) {
      const page = await simJson(sim, "GET", url.replace(sim.url, ""), { token });
      policy.push(...(page.body.value as { name: string }[]).map((p) => p.name));
      url = page.body.nextLink as string | undefined;
      pages++;
    }
    expect(policy).toHaveLength(6);
    expect(pages).toBe(3);
  });
});
