// Benchmark scenarios built in code: a tenant with N subscriptions and M AKS clusters spread over R regions.
import { createHash } from "node:crypto";
import { scenarioSchema, type Scenario } from "../../simulator/src/contract";
import type { RunConfig } from "../../lib/steps/config";
import { suggestStorageAccountName } from "../../lib/steps/storage-names";

/** The shape of one benchmark scenario. */
export interface BenchShape {
  name: string;
  subscriptions: number;
  clusters: number;
  regions: number;
}

/** The three scenarios of issue 5: default-sized, 10 × 100 and 25 × 400. */
export const BENCH_SHAPES: readonly BenchShape[] = [
  { name: "small", subscriptions: 1, clusters: 4, regions: 2 },
  { name: "medium", subscriptions: 10, clusters: 100, regions: 4 },
  { name: "large", subscriptions: 25, clusters: 400, regions: 4 },
];

const REGIONS = ["eastus", "westeurope", "westus2", "northeurope"] as const;
export const BENCH_OWNER = "owner@bench.onmicrosoft.com";
const AUDIT_GROUP = "rg-aks-audit";

/** A stable UUID (version 5 layout) from a label, so a scenario's ids are the same on every run. */
export function benchUuid(label: string): string {
  const h = createHash("sha256").update(`aks-onboarding-bench/${label}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const regionsOf = (shape: BenchShape) => REGIONS.slice(0, Math.max(1, Math.min(shape.regions, REGIONS.length)));

/** Cluster i's subscription index and region: round-robin, so every subscription and region gets its share. */
function placement(shape: BenchShape, i: number): { sub: number; region: string } {
  const regions = regionsOf(shape);
  return { sub: i % shape.subscriptions, region: regions[Math.floor(i / shape.subscriptions) % regions.length] ?? "eastus" };
}

/** The simulator scenario: one tenant, one Owner + Cloud Application Administrator, every provider registered. */
export function buildScenario(shape: BenchShape): Scenario {
  const tenantId = benchUuid(`${shape.name}/tenant`);
  const subIds = Array.from({ length: shape.subscriptions }, (_, s) => benchUuid(`${shape.name}/subscription/${s}`));
  const subscriptions = subIds.map((id, s) => {
    const clusters = Array.from({ length: shape.clusters }, (_, i) => i)
      .filter((i) => placement(shape, i).sub === s)
      .map((i) => {
        const { region } = placement(shape, i);
        return { name: `aks-${String(i).padStart(3, "0")}-${region}`, resourceGroup: `rg-aks-${region}`, location: region };
      });
    return {
      id,
      displayName: `Bench subscription ${s + 1}`,
      registeredProviders: ["Microsoft.ContainerService", "Microsoft.Storage", "Microsoft.Insights", "Microsoft.Authorization"],
      resourceGroups: regionsOf(shape).map((region) => ({ name: `rg-aks-${region}`, location: region })),
      clusters,
    };
  });
  return scenarioSchema.parse({
    tenant: { id: tenantId, domain: "bench.onmicrosoft.com", displayName: `Bench ${shape.name}` },
    users: [
      {
        upn: BENCH_OWNER,
        displayName: "Bench Owner",
        objectId: benchUuid(`${shape.name}/owner`),
        directoryRoles: ["Cloud Application Administrator"],
        subscriptionRoles: Object.fromEntries(subIds.map((id) => [id, ["Owner"]])),
      },
    ],
    subscriptions,
  });
}

/** The run an admin would start on the scenario: every cluster, one new account per region in the first subscription. */
export function buildRunConfig(scenario: Scenario): RunConfig {
  const tenantId = scenario.tenant.id;
  const first = scenario.subscriptions[0];
  if (!first) throw new Error("a bench scenario has at least one subscription");
  const clusters = scenario.subscriptions.flatMap((s) =>
    s.clusters.map((c) => ({
      id: `/subscriptions/${s.id}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`,
      name: c.name,
      subscriptionId: s.id,
      resourceGroup: c.resourceGroup,
      location: c.location,
    })),
  );
  const regions = [...new Set(clusters.map((c) => c.location))];
  return {
    tenantId,
    subscriptions: scenario.subscriptions.map((s) => ({ id: s.id, displayName: s.displayName })),
    clusters,
    storage: regions.map((region) => ({
      region,
      subscriptionId: first.id,
      resourceGroup: AUDIT_GROUP,
      createResourceGroup: true,
      accountName: suggestStorageAccountName(tenantId, region),
      adopt: false,
    })),
    options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
    vendor: { name: "Expel", appUniqueName: "expel-aks-audit-reader", appDisplayName: "Expel Workbench – AKS audit reader", egressIps: [] },
  };
}
