// A StepContext for step integration tests: the admin's simulator tokens, an in-memory write log, progress and secrets.
import type { RunningSimulator } from "../../../simulator/src/index";
import type { RunConfig } from "../../../lib/steps/config";
import type { StepId } from "../../../lib/steps/registry";
import { suggestStorageAccountName } from "../../../lib/steps/storage-names";
import type { StepContext, StepProgressUpdate } from "../../../lib/steps/types";
import { OWNER, SUB_DEV, SUB_PROD, TENANT, userCredential } from "../azure/support";

export interface RecordedWrite {
  key: string;
  kind: string;
  target: string;
  status: "intent" | "succeeded" | "failed";
  resourceId?: string;
}

export interface TestStepContext {
  ctx: StepContext;
  writes: RecordedWrite[];
  progress: StepProgressUpdate[];
  secrets: Map<string, { value: string; keyId: string; hint: string; expiresAt: Date }>;
}

/** A context acting as `upn` against `sim`, with `outputs` of earlier steps. */
export function testStepContext(
  sim: RunningSimulator,
  options: {
    upn?: string;
    config?: RunConfig;
    outputs?: Partial<Record<StepId, unknown>>;
    runId?: string;
    /** The run's write-ahead log, when the test re-runs a step of a run the engine executed. */
    wroteBefore?: (key: string) => Promise<boolean>;
  } = {},
): TestStepContext {
  const upn = options.upn ?? OWNER;
  const writes: RecordedWrite[] = [];
  const progress: StepProgressUpdate[] = [];
  const secrets = new Map<string, { value: string; keyId: string; hint: string; expiresAt: Date }>();
  const ctx: StepContext = {
    runId: options.runId ?? "test-run-0000000000000001",
    tenantId: TENANT,
    actorUpn: upn,
    config: options.config ?? defaultRunConfig(),
    arm: userCredential(sim, upn, "arm"),
    graph: userCredential(sim, upn, "graph"),
    outputs: options.outputs ?? {},
    async write(op, write, resourceIdOf) {
      const entry: RecordedWrite = { ...op, status: "intent" };
      writes.push(entry);
      try {
        const result = await write();
        entry.status = "succeeded";
        entry.resourceId = resourceIdOf?.(result);
        return result;
      } catch (error) {
        entry.status = "failed";
        throw error;
      }
    },
    async progress(update) {
      progress.push(update);
    },
    async wroteBefore(key) {
      return writes.some((w) => w.key === key && w.status === "succeeded") || ((await options.wroteBefore?.(key)) ?? false);
    },
    secrets: {
      async put(kind, value, meta) {
        secrets.set(kind, { value, ...meta });
      },
      async get(kind) {
        return secrets.get(kind) ?? null;
      },
      async delete(kind) {
        secrets.delete(kind);
      },
    },
  };
  return { ctx, writes, progress, secrets };
}

const cluster = (subscriptionId: string, resourceGroup: string, name: string, location: string) => ({
  id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`,
  name,
  subscriptionId,
  resourceGroup,
  location,
});

/** The default scenario, everything selected: 2 subscriptions, 4 clusters, one new account per region in Production. */
export function defaultRunConfig(overrides: Partial<RunConfig["options"]> = {}): RunConfig {
  return {
    tenantId: TENANT,
    subscriptions: [
      { id: SUB_PROD, displayName: "Contoso Production" },
      { id: SUB_DEV, displayName: "Contoso Development" },
    ],
    clusters: [
      cluster(SUB_PROD, "rg-aks-prod-eastus", "aks-payments-prod", "eastus"),
      cluster(SUB_PROD, "rg-aks-prod-westeurope", "aks-web-prod-weu", "westeurope"),
      cluster(SUB_DEV, "rg-aks-dev-eastus", "aks-dev-eastus", "eastus"),
      cluster(SUB_DEV, "rg-aks-dev-westeurope", "aks-sandbox-weu", "westeurope"),
    ],
    storage: ["eastus", "westeurope"].map((region) => ({
      region,
      subscriptionId: SUB_PROD,
      resourceGroup: "rg-aks-audit",
      createResourceGroup: true,
      accountName: suggestStorageAccountName(TENANT, region),
      adopt: false,
    })),
    options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180, ...overrides },
    vendor: {
      name: "Expel",
      appUniqueName: "expel-aks-audit-reader",
      appDisplayName: "Expel Workbench – AKS audit reader",
      egressIps: ["203.0.113.10", "198.51.100.20"],
    },
  };
}
