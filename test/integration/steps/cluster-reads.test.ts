// The role-assignments step reads the clusters it assigns on: one list per subscription from eight selected clusters,
// a GET each below that, and the run's recorded value for a cluster the admin can't read either way.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_ROLE_IDS } from "../../../lib/azure/role-ids";
import type { RunConfig } from "../../../lib/steps/config";
import { roleAssignmentsStep } from "../../../lib/steps/role-assignments";
import type { RunningSimulator } from "../../../simulator/src/index";
import { benchUuid, BENCH_OWNER, buildRunConfig, buildScenario } from "../../../scripts/bench/scenarios";
import { armRaw, clearRequests, simRequests, startSimForPortal } from "../azure/support";
import { testStepContext } from "./context";

const scenario = buildScenario({ name: "cluster-reads", subscriptions: 2, clusters: 20, regions: 2 });
const PARTIAL = "partial@bench.onmicrosoft.com";
const PARTIAL_OID = benchUuid("cluster-reads/partial");
scenario.users.push({ upn: PARTIAL, displayName: "Partial Reader", objectId: PARTIAL_OID, directoryRoles: [], subscriptionRoles: {} });
const [first, second] = scenario.subscriptions;
const file = path.join(".test-data", `cluster-reads-${crypto.randomBytes(4).toString("hex")}.json`);
let sim: RunningSimulator;
let config: RunConfig;

beforeAll(async () => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(scenario));
  sim = await startSimForPortal({ scenario: file });
  config = buildRunConfig(scenario);
  // The partial reader may read one resource group of the first subscription, and nothing in the second.
  const scope = `/subscriptions/${first?.id}/resourceGroups/rg-aks-eastus`;
  const put = await armRaw(
    sim,
    BENCH_OWNER,
    "PUT",
    `${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
    {
      properties: {
        roleDefinitionId: `/subscriptions/${first?.id}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.reader}`,
        principalId: PARTIAL_OID,
        principalType: "User",
      },
    },
  );
  expect(put.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await sim?.close();
  fs.rmSync(file, { force: true });
});

async function readAs(upn: string) {
  const { ctx } = testStepContext(sim, { upn, config });
  await clearRequests(sim);
  const live = await roleAssignmentsStep.read(ctx);
  const gets = (await simRequests(sim)).filter((r) => r.method === "GET" && /managedClusters/i.test(r.url));
  return {
    clusters: live.clusters ?? [],
    lists: gets.filter((r) => /managedClusters\?/i.test(r.url)),
    reads: gets.filter((r) => /managedClusters\/[^/?]+\?/i.test(r.url)),
  };
}

describe("the role-assignments step's cluster reads", () => {
  it("lists each subscription's clusters once when ten of them are selected, and reads every one live", async () => {
    expect([first?.clusters.length, second?.clusters.length]).toEqual([10, 10]);
    const { clusters, lists, reads } = await readAs(BENCH_OWNER);
    expect(lists).toHaveLength(2);
    expect(reads).toHaveLength(0);
    expect(clusters).toHaveLength(20);
    expect(clusters.every((c) => c.source === "live")).toBe(true);
  });

  it("with read access on one resource group: the list shows that group's clusters; the others fall back to the run's values", async () => {
    const { clusters, lists, reads } = await readAs(PARTIAL);
    const readable = first?.clusters.filter((c) => c.resourceGroup === "rg-aks-eastus").map((c) => c.name) ?? [];
    expect(readable.length).toBeGreaterThan(0);
    // The first subscription's list answers with the readable group's clusters. The second's is refused, so its
    // clusters are tried one by one (each refused too) before the run's recorded values are used.
    expect(lists).toHaveLength(2);
    expect(reads).toHaveLength(second?.clusters.length ?? -1);
    expect(
      clusters
        .filter((c) => c.source === "live")
        .map((c) => c.clusterName)
        .sort(),
    ).toEqual([...readable].sort());
    expect(clusters.filter((c) => c.source === "config")).toHaveLength(20 - readable.length);
  });
});
