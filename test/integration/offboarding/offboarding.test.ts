// Offboarding against the simulator: onboard with the engine, remove what the run created, compare Azure with before.
import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { putCustomRoleDefinition } from "../../../lib/azure/put-custom-role-definition";
import { customRoleId } from "../../../lib/azure/names";
import {
  confirmRunPlan,
  createRun,
  getOffboarding,
  listAuditEvents,
  listOperations,
  recordIntent,
  setRunPlan,
  setRunStatus,
} from "../../../lib/db";
import { executeStep } from "../../../lib/engine/execute-step";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { planRun } from "../../../lib/engine/plan-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import { executeOffboarding, liveContextFor, type ExecuteOffboardingResult } from "../../../lib/offboarding/execute";
import { planOffboarding } from "../../../lib/offboarding/plan";
import { AKS_READ_ONLY_ROLE, AKS_READ_ONLY_ROLE_KEY } from "../../../lib/steps/custom-role";
import type { RunConfig } from "../../../lib/steps/config";
import { STEP_IDS } from "../../../lib/steps/registry";
import { scenarioSchema } from "../../../simulator/src/contract";
import type { RunningSimulator } from "../../../simulator/src/index";
import { type JsonBody } from "../../../simulator/src/testing";
import { OWNER, setFaults, setLatency, simRequests, simState, SUB_PROD, TENANT, userCredential } from "../azure/support";
import { defaultRunConfig } from "../steps/context";
import { portalFixture } from "../portal-fixture";

let sim: RunningSimulator;
const { tokensOf } = portalFixture("offboarding", { blob: true }, (started) => (sim = started));
const tokens = tokensOf(OWNER);
const actor = { userId: null, upn: OWNER };
const enginePolicy = {
  transientBaseDelayMs: 50,
  transientMaxDelayMs: 200,
  retryAfterMaxMs: 200,
  replicationBaseDelayMs: 100,
  replicationMaxDelayMs: 500,
  replicationBudgetMs: 20_000,
  transientAttempts: 8,
};
const policy = {
  transientAttempts: 8,
  transientBaseDelayMs: 50,
  transientMaxDelayMs: 300,
  replicationBaseDelayMs: 50,
  replicationMaxDelayMs: 300,
  verifyAttempts: 3,
  leaseTtlMs: 30_000,
};

const scenario = (name: string) => scenarioSchema.parse(JSON.parse(fs.readFileSync(path.join("simulator", "scenarios", name), "utf8")));

beforeEach(async () => {
  await sim.reset(scenario("default.json"));
  await setLatency(sim, { lroMs: { storageAccount: 100, providerRegistration: 0, resourceGroupDelete: 100 }, replicationMs: 0 });
});

/** Azure as the portal could observe it, minus provider registrations (kept by design: subscription-wide). */
async function snapshot(): Promise<JsonBody> {
  const s = await simState(sim);
  const byId = (a: JsonBody, b: JsonBody) => String(a.id).localeCompare(String(b.id));
  return {
    arm: (s.arm as JsonBody[]).filter((r) => r.type !== "Microsoft.Resources/providers").sort(byId),
    graph: {
      applications: [...s.graph.applications].sort(byId),
      servicePrincipals: [...s.graph.servicePrincipals].sort(byId),
      appRoleAssignments: [...s.graph.appRoleAssignments].sort(byId),
    },
    workbench: s.workbench,
  };
}

async function startRun(config: RunConfig = defaultRunConfig()) {
  const run = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: OWNER, config, steps: STEP_IDS });
  const planned = await planRun({ config, tenantId: TENANT, tokens, modules: STEP_MODULES, runId: run.id });
  expect(await setRunPlan(run.id, planned as never)).toBe(true);
  expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
  expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
  return run;
}

async function onboard(config?: RunConfig) {
  const run = await startRun(config);
  const result = await runRemainingSteps({ runId: run.id, tenantId: TENANT, actor, tokens, modules: STEP_MODULES, policy: enginePolicy });
  expect(result).toEqual({ outcome: "completed" });
  return run;
}

async function offboard(runId: string): Promise<ExecuteOffboardingResult> {
  return executeOffboarding({ runId, tenantId: TENANT, actor, tokens, policy });
}

async function planOf(runId: string) {
  const ctx = await liveContextFor(runId, TENANT, tokens);
  if (!ctx) throw new Error("run not found");
  return (await planOffboarding(ctx, await listOperations(runId))).plan;
}

const writesSince = async (since: string) =>
  (await simRequests(sim, since)).filter(
    (r) => ["PUT", "POST", "PATCH", "DELETE"].includes(r.method) && !r.url.includes("/_sim") && !r.url.includes("checkNameAvailability"),
  );

describe("offboarding a run", () => {
  it("removes everything a full run created, in order, verified; Azure is back to its pre-run state; a re-run writes nothing", async () => {
    const before = await snapshot();
    const run = await onboard();
    expect((await snapshot()).workbench.devices).toHaveLength(1);

    const plan = await planOf(run.id);
    const removed = plan.items.filter((i) => i.action === "remove").map((i) => i.category);
    expect(removed).toEqual([
      "workbench-device",
      // The Log Analytics query role per subscription, the AKS role per cluster, Storage Blob Data Reader per audit account.
      ...Array(8).fill("role-assignment"),
      // The read-only AKS role, the cluster metadata role and the Log Analytics query role.
      "custom-role",
      "custom-role",
      "custom-role",
      "consent",
      "client-secret",
      "application",
      "service-principal",
      "diagnostic-setting",
      "diagnostic-setting",
      "diagnostic-setting",
      "diagnostic-setting",
      "storage-account",
      "storage-account",
      "resource-group",
    ]);
    expect(plan.items.find((i) => i.category === "storage-account")?.why).toMatch(/logs stored in it are deleted/);
    expect(plan.items.filter((i) => i.action === "keep").map((i) => i.resourceType)).toContain("Resource provider registration");

    const since = new Date().toISOString();
    // Two tabs at once: one execution holds the lease, the other is refused.
    const [a, b] = await Promise.all([offboard(run.id), offboard(run.id)]);
    const outcomes = [a.outcome, b.outcome].sort();
    expect(outcomes).toEqual(["busy", "clean"]);
    const done = (a.outcome === "clean" ? a : b) as Extract<ExecuteOffboardingResult, { results: unknown }>;
    expect(done.results.filter((r) => r.outcome === "failed")).toEqual([]);

    const deletes = (await writesSince(since)).filter((r) => r.method === "DELETE").map((r) => r.url.split("?")[0] ?? "");
    const firstIndex = (re: RegExp) => deletes.findIndex((p) => re.test(p));
    expect(firstIndex(/security-devices/)).toBe(0);
    expect(firstIndex(/roleAssignments/i)).toBeLessThan(firstIndex(/roleDefinitions/i));
    expect(firstIndex(/roleDefinitions/i)).toBeLessThan(firstIndex(/\/applications\//));
    // An account itself (the blob readers' assignments at its scope have the account in their path too).
    const account = /storageAccounts\/[^/]+$/i;
    expect(firstIndex(/diagnosticSettings/i)).toBeLessThan(firstIndex(account));
    expect(firstIndex(account)).toBeLessThan(firstIndex(/resourcegroups\/rg-aks-audit$/i));

    expect(await snapshot()).toEqual(before);
    expect((await getOffboarding(run.id))?.status).toBe("clean");
    const ops = (await listOperations(run.id)).filter((o) => o.stepId === "offboarding");
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.every((o) => o.kind === "delete" && o.status === "succeeded")).toBe(true);
    const audit = (await listAuditEvents(TENANT, { limit: 1000 })).filter((e) => e.runId === run.id);
    expect(audit.filter((e) => e.action === "azure.write" && (e.detail as { kind?: string } | null)?.kind === "delete").length).toBe(
      ops.length,
    );

    // Nothing left: the plan removes nothing, and executing it again sends no write.
    expect((await planOf(run.id)).removeCount).toBe(0);
    const again = new Date().toISOString();
    expect(await offboard(run.id)).toMatchObject({ outcome: "clean", writes: 0 });
    expect(await writesSince(again)).toEqual([]);
  }, 180_000);

  it("keeps an adopted storage account (and its logs) and removes only the retention rule the run added to it", async () => {
    await sim.reset(scenario("second-admin.json"));
    await setLatency(sim, { lroMs: { storageAccount: 100, providerRegistration: 0, resourceGroupDelete: 100 }, replicationMs: 0 });
    const before = await snapshot();
    const config = defaultRunConfig();
    // second-admin.json has one cluster per region: aks-payments-prod (eastus) and aks-sandbox-weu (westeurope).
    config.clusters = config.clusters.filter((c) => c.name === "aks-payments-prod" || c.name === "aks-sandbox-weu");
    config.storage = config.storage.map((s) =>
      s.region === "eastus"
        ? { ...s, resourceGroup: "rg-aks-prod-eastus", accountName: "contosoauditeus01", adopt: true, createResourceGroup: false }
        : s,
    );
    const run = await onboard(config);

    const plan = await planOf(run.id);
    const adopted = plan.items.find((i) => i.resource === "contosoauditeus01" && i.category === "storage-account");
    expect(adopted?.action).toBe("keep");
    expect(plan.items.some((i) => i.category === "lifecycle-policy" && i.action === "remove")).toBe(true);

    expect(await offboard(run.id)).toMatchObject({ outcome: "clean" });
    const after = await snapshot();
    expect(after.arm.some((r: JsonBody) => r.name === "contosoauditeus01" && r.type === "Microsoft.Storage/storageAccounts")).toBe(true);
    // The adopted account is kept; what the run changed on it (secure defaults, firewall) stays, the rest is as before.
    const withoutAccount = (s: JsonBody) => ({
      ...s,
      arm: s.arm.filter((r: JsonBody) => !String(r.id).toLowerCase().includes("/storageaccounts/contosoauditeus01")),
    });
    expect(withoutAccount(after)).toEqual(withoutAccount(before));
  }, 180_000);

  it("offboards a partially failed run and reconciles a dangling intent (a crash right after a create)", async () => {
    const before = await snapshot();
    const run = await startRun();
    for (const stepId of ["storage", "diagnostic-settings", "app-registration"] as const) {
      expect(
        await executeStep({ runId: run.id, tenantId: TENANT, stepId, actor, tokens, modules: STEP_MODULES, policy: enginePolicy }),
      ).toMatchObject({ ok: true });
    }
    await setRunStatus(run.id, "failed", { from: ["running"] });
    // The custom role step crashed after its PUT reached Azure, before the outcome was logged.
    const roleId = customRoleId(TENANT, AKS_READ_ONLY_ROLE_KEY);
    await recordIntent({
      runId: run.id,
      stepId: "custom-role",
      key: `custom-role.put:${roleId}`,
      kind: "create",
      target: `Custom role ${AKS_READ_ONLY_ROLE.roleName}`,
      actorUpn: OWNER,
    });
    await putCustomRoleDefinition(userCredential(sim, OWNER, "arm"), {
      roleId,
      roleName: AKS_READ_ONLY_ROLE.roleName,
      description: AKS_READ_ONLY_ROLE.description,
      permissions: AKS_READ_ONLY_ROLE.permissions.map((p) => ({ ...p })),
      subscriptionIds: [SUB_PROD],
    });

    const plan = await planOf(run.id);
    const role = plan.items.find((i) => i.category === "custom-role");
    expect(role?.action).toBe("remove");
    expect(role?.why).toMatch(/most likely created by that attempt/);
    expect(plan.items.some((i) => i.category === "role-assignment" || i.category === "workbench-device")).toBe(false);

    expect(await offboard(run.id)).toMatchObject({ outcome: "clean" });
    expect(await snapshot()).toEqual(before);
  }, 180_000);

  it("gets through throttling and 5xx on every call, and is clean after at most one more execution", async () => {
    const before = await snapshot();
    const run = await onboard();
    await setFaults(sim, { rate: 0.2, kinds: ["429", "500", "503"], seed: 11 });
    let result = await offboard(run.id);
    if (result.outcome !== "clean") result = await offboard(run.id);
    await setFaults(sim, { rate: 0 });
    expect(result.outcome).toBe("clean");
    expect(await snapshot()).toEqual(before);
  }, 240_000);
});
