// One worker of test/reliability/fault-runs.test.ts: its own simulator and database (env() is per process), N sequential
// engine runs under 20% injected faults; prints one JSON line per run. Usage: tsx fault-run-worker.ts <worker> <runs>
import "../../scripts/server-only-shim";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  closeDb,
  configureDb,
  confirmRunPlan,
  createRun,
  getRunForTenant,
  listOperations,
  migrate,
  setRunPlan,
  setRunStatus,
} from "../../lib/db";
import { runRemainingSteps } from "../../lib/engine/drive-run";
import { planRun } from "../../lib/engine/plan-run";
import { resumeInterruptedSteps } from "../../lib/engine/recover";
import { STEP_MODULES } from "../../lib/engine/step-modules";
import type { TokenProvider } from "../../lib/auth/tokens";
import type { RunConfig } from "../../lib/steps/config";
import { STEP_IDS } from "../../lib/steps/registry";
import { suggestStorageAccountName } from "../../lib/steps/storage-names";
import { simJson, simToken, startTestSimulator, TEST_CLIENT, TEST_WORKBENCH_KEY, type JsonBody } from "../../simulator/src/testing";
import { testDbOptions } from "../support/pglite-template";

export const FAULT_RATE = 0.2;
export const FAULT_KINDS = ["429", "500", "503", "PrincipalNotFound", "NoBackingApplicationObject"] as const;

const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
const SUB_PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const SUB_DEV = "2cf36c9a-02f4-41d4-b097-7345a8e2806e";
const OWNER = "owner@contoso.onmicrosoft.com";
const APP = "expel-aks-audit-reader";
// Short waits so the runs fit in CI; the classification and retry paths are the production ones.
const POLICY = {
  transientBaseDelayMs: 20,
  transientMaxDelayMs: 100,
  retryAfterMaxMs: 100,
  replicationBaseDelayMs: 100,
  replicationMaxDelayMs: 400,
  replicationBudgetMs: 30_000,
  transientAttempts: 8,
};

/** What a worker reports per run. */
export interface FaultRunReport {
  worker: number;
  run: number;
  ms: number;
  outcome: string;
  steps: string[];
  requests: number;
  faults: Record<string, number>;
  duplicates: string[];
}

function config(): RunConfig {
  const cluster = (subscriptionId: string, resourceGroup: string, name: string, location: string) => ({
    id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`,
    name,
    subscriptionId,
    resourceGroup,
    location,
  });
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
    options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
    vendor: {
      name: "Expel",
      appUniqueName: APP,
      appDisplayName: "Expel Workbench – AKS audit reader",
      egressIps: ["203.0.113.10", "198.51.100.20"],
    },
  };
}

/**
 * A call to the simulator's control API (/_sim), not part of what is tested: a reused keep-alive connection the simulator
 * closed at the same moment (ECONNRESET, on a loaded machine) is tried again on a new one.
 */
async function control(sim: { url: string }, method: string, pathAndQuery: string, opts: { body?: unknown } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await simJson(sim, method, pathAndQuery, opts);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof TypeError)) throw error;
    }
  }
}

/** Which injected fault a logged request answered with, if any. */
function faultOf(r: { status: number; url: string }): string | undefined {
  if (r.status === 429 || r.status === 500 || r.status === 503) return String(r.status);
  if (r.status === 400 && /\/roleassignments\/[^/?]+(\?|$)/i.test(r.url)) return "PrincipalNotFound";
  if (r.status === 400 && /^\/v1\.0\/serviceprincipals\/?(\?|$)/i.test(r.url)) return "NoBackingApplicationObject";
  return undefined;
}

/** Resources a run makes exactly once, compared with what the simulator holds. */
function duplicates(state: JsonBody): string[] {
  const arm = state.arm as { type: string; name: string; properties: Record<string, unknown> }[];
  const ofType = (type: string) => arm.filter((r) => r.type.toLowerCase() === type.toLowerCase());
  const apps = (state.graph.applications as { uniqueName?: string; appId: string; passwordCredentials: unknown[] }[]).filter(
    (a) => a.uniqueName === APP,
  );
  const sps = (state.graph.servicePrincipals as { appId: string; id: string }[]).filter((s) => s.appId === apps[0]?.appId);
  const counts: Record<string, [number, number]> = {
    applications: [apps.length, 1],
    secrets: [apps[0]?.passwordCredentials.length ?? 0, 1],
    servicePrincipals: [sps.length, 1],
    storageAccounts: [ofType("Microsoft.Storage/storageAccounts").filter((a) => a.name.startsWith("kubeaudit")).length, 2],
    diagnosticSettings: [ofType("Microsoft.Insights/diagnosticSettings").filter((s) => s.name === "aks-onboarding-kube-audit").length, 4],
    // The read-only AKS role, the cluster metadata role and the Log Analytics query role.
    customRoles: [ofType("Microsoft.Authorization/roleDefinitions").filter((r) => r.properties.type === "CustomRole").length, 3],
    // The Log Analytics query role on 2 subscriptions, the AKS role on 4 clusters, Storage Blob Data Reader on 2 accounts.
    roleAssignments: [ofType("Microsoft.Authorization/roleAssignments").filter((a) => a.properties.principalId === sps[0]?.id).length, 8],
    workbenchDevices: [(state.workbench.devices as unknown[]).length, 1],
  };
  return Object.entries(counts)
    .filter(([, [got, want]]) => got !== want)
    .map(([k, [got, want]]) => `${k}: ${got} (want ${want})`);
}

/** Points this process's engine at a simulator: its endpoints, the portal's client and a fresh sealing key. */
function pointAtSimulator(sim: { url: string }): TokenProvider {
  process.env.ARM_ENDPOINT = sim.url;
  process.env.GRAPH_ENDPOINT = sim.url;
  // Verification signs in as the created app and queries Log Analytics at the simulator.
  process.env.ENTRA_AUTHORITY = `${sim.url}/organizations`;
  process.env.LOG_ANALYTICS_ENDPOINT = sim.url;
  process.env.LOG_ANALYTICS_AUDIENCE = "https://api.loganalytics.io";
  process.env.ENTRA_CLIENT_ID = TEST_CLIENT.clientId;
  process.env.ENTRA_CLIENT_SECRET = TEST_CLIENT.clientSecret;
  process.env.ENCRYPTION_KEY = crypto.randomBytes(32).toString("base64");
  process.env.WORKBENCH_URL = `${sim.url}/workbench`;
  process.env.WORKBENCH_API_KEY = TEST_WORKBENCH_KEY;
  return async (resource) => ({
    ok: true,
    token: await simToken(sim, { upn: OWNER, resource }),
    expiresOn: new Date(Date.now() + 3_600_000),
  });
}

/** A confirmed, running run of config(), planned without faults (a faulted plan read is shown as a plan error, not retried). */
async function startRun(tokens: TokenProvider): Promise<string> {
  const run = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: OWNER, config: config(), steps: STEP_IDS });
  const planned = await planRun({ config: config(), tenantId: TENANT, tokens, modules: STEP_MODULES, runId: run.id });
  if (
    !(await setRunPlan(run.id, planned as never)) ||
    !(await confirmRunPlan(run.id, OWNER)) ||
    !(await setRunStatus(run.id, "running", { from: ["planned"] }))
  )
    throw new Error("could not start the run");
  return run.id;
}

async function main(worker: number, runs: number): Promise<void> {
  const sim = await startTestSimulator({ log: () => undefined, blob: true });
  const tokens = pointAtSimulator(sim);
  const dataDir = path.join(".test-data", `fault-runs-${worker}-${crypto.randomBytes(4).toString("hex")}`);
  configureDb(testDbOptions(dataDir));
  await migrate();
  try {
    for (let i = 0; i < runs; i++) {
      const seed = 1_000 + worker * 100 + i;
      await sim.reset();
      // Every third run has slow storage LROs (the SDK polls them); replication lag is always on.
      await control(sim, "POST", "/_sim/latency", {
        body: { lroMs: { storageAccount: (worker + i) % 3 === 0 ? 1_500 : 100, providerRegistration: 0 }, replicationMs: 300 },
      });
      const run = { id: await startRun(tokens) };
      // Retry-After 0 s or 1 s on alternate runs.
      await control(sim, "POST", "/_sim/faults", { body: { rate: FAULT_RATE, kinds: FAULT_KINDS, seed, retryAfterSeconds: i % 2 } });
      const since = new Date().toISOString();
      const started = Date.now();
      const result = await runRemainingSteps({
        runId: run.id,
        tenantId: TENANT,
        actor: { userId: null, upn: OWNER },
        tokens,
        modules: STEP_MODULES,
        policy: POLICY,
      });
      const ms = Date.now() - started;
      await control(sim, "POST", "/_sim/faults", { body: { rate: 0 } });
      const log = (
        (await control(sim, "GET", `/_sim/requests?since=${encodeURIComponent(since)}`)).body as { status: number; url: string }[]
      ).filter((r) => !r.url.startsWith("/_sim"));
      const faults: Record<string, number> = {};
      for (const r of log) {
        const f = faultOf(r);
        if (f) faults[f] = (faults[f] ?? 0) + 1;
      }
      const steps = (await getRunForTenant(run.id, TENANT))?.steps.map((s) => s.status) ?? [];
      const report: FaultRunReport = {
        worker,
        run: i,
        ms,
        outcome: result.outcome,
        steps,
        requests: log.length,
        faults,
        duplicates: duplicates((await control(sim, "GET", "/_sim/state")).body),
      };
      process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
    }
  } finally {
    await closeDb();
    await sim.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The lease of the crash phases: short, so the resume finds the killed process's leases lapsed within seconds. */
export const CRASH_LEASE_TTL_MS = 2_000;

/** What the resume phase of a crash reports. */
export interface CrashResumeReport {
  runId: string;
  interrupted: string[];
  outcome: string;
  steps: string[];
  duplicates: string[];
  /** Write-ahead log entries whose outcome the killed process never recorded, by step. */
  unfinishedWrites: string[];
}

/**
 * start: start a run against the simulator at simUrl and drive it until the test kills this process (it prints the run
 * id first). resume: in a new process over the same database, flag what the killed one left running, drive the run
 * again and report. Usage: tsx fault-run-worker.ts crash <start|resume> <dataDir> <simUrl> [runId]
 */
async function crashPhase(phase: string, dataDir: string, simUrl: string, runId: string | undefined): Promise<void> {
  const sim = { url: simUrl };
  const tokens = pointAtSimulator(sim);
  configureDb(testDbOptions(dataDir));
  await migrate();
  const drive = (id: string) =>
    runRemainingSteps({
      runId: id,
      tenantId: TENANT,
      actor: { userId: null, upn: OWNER },
      tokens,
      modules: STEP_MODULES,
      policy: { ...POLICY, leaseTtlMs: CRASH_LEASE_TTL_MS },
    });
  if (phase === "start") {
    const id = await startRun(tokens);
    process.stdout.write(`REPORT ${JSON.stringify({ runId: id })}\n`);
    await drive(id);
    // The test kills this process before the run gets here.
    throw new Error("the run finished before the test killed it");
  }
  if (!runId) throw new Error("resume needs the run id");
  const unfinishedWrites = (await listOperations(runId)).filter((o) => o.status === "intent").map((o) => o.stepId);
  await new Promise((resolve) => setTimeout(resolve, CRASH_LEASE_TTL_MS + 500));
  const interrupted = (await resumeInterruptedSteps({ leaseTtlMs: CRASH_LEASE_TTL_MS })).filter((s) => s.runId === runId);
  const result = await drive(runId);
  const report: CrashResumeReport = {
    runId,
    interrupted: interrupted.map((s) => s.stepId),
    outcome: result.outcome,
    steps: (await getRunForTenant(runId, TENANT))?.steps.map((s) => s.status) ?? [],
    duplicates: duplicates((await control(sim, "GET", "/_sim/state")).body),
    unfinishedWrites,
  };
  process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
  await closeDb();
}

if (process.argv[1]?.endsWith("fault-run-worker.ts") && process.argv[2] === "crash") {
  crashPhase(process.argv[3] ?? "", process.argv[4] ?? "", process.argv[5] ?? "", process.argv[6]).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else if (process.argv[1]?.endsWith("fault-run-worker.ts")) {
  main(Number(process.argv[2] ?? 0), Number(process.argv[3] ?? 1)).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
