// The diagnostic-settings step against the simulated ARM: plan, apply, re-apply, verify, adoption, the 5-limit, faults, permissions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AzureOperationError, classifyAzureError } from "../../../lib/azure/errors";
import {
  diagnosticSettingsStep,
  DIAGNOSTIC_SETTING_NAME,
  limitBlock,
  type DiagnosticSettingsOutput,
} from "../../../lib/steps/diagnostic-settings";
import { storageStep, type StorageOutput } from "../../../lib/steps/storage";
import type { RunningSimulator } from "../../../simulator/src/index";
import {
  armOfType,
  armRaw,
  azureError,
  clearRequests,
  OWNER,
  READER,
  setFaults,
  setLatency,
  simRequests,
  startSimForPortal,
  SUB_PROD,
} from "../azure/support";
import { defaultRunConfig, testStepContext } from "./context";

let sim: RunningSimulator;
let storage: StorageOutput;
const API = "api-version=2021-05-01-preview";
const config = defaultRunConfig();
const clusterId = (name: string) => config.clusters.find((c) => c.name === name)?.id ?? "";
const PAYMENTS = clusterId("aks-payments-prod");
const WEB = clusterId("aks-web-prod-weu");
const DEV = clusterId("aks-dev-eastus");
const SANDBOX = clusterId("aks-sandbox-weu");
const MUTATING = ["PUT", "POST", "PATCH", "DELETE"];
const settingPath = (cluster: string, name: string) => `${cluster}/providers/Microsoft.Insights/diagnosticSettings/${name}?${API}`;
const accountId = (region: string) => storage.accounts.find((a) => a.region === region)?.id ?? "";

const context = (options: Parameters<typeof testStepContext>[1] = {}) => testStepContext(sim, { outputs: { storage }, ...options });

async function readAndApply(ctx = context()) {
  const live = await diagnosticSettingsStep.read(ctx.ctx);
  return { ...ctx, live, output: await diagnosticSettingsStep.apply(ctx.ctx, live) };
}

async function deleteSetting(cluster: string, name: string): Promise<void> {
  expect((await armRaw(sim, OWNER, "DELETE", settingPath(cluster, name))).status).toBe(200);
}

/** kube-audit settings per cluster id, from the simulator's state. */
async function kubeAuditSettingsByCluster(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const s of await armOfType(sim, "Microsoft.Insights/diagnosticSettings")) {
    const logs = ((s.properties as { logs?: { category?: string; enabled?: boolean }[] }).logs ?? []).filter(
      (l) => l.enabled && l.category === "kube-audit",
    );
    if (!logs.length) continue;
    const cluster = String(s.id).split("/providers/Microsoft.Insights/")[0] ?? "";
    out.set(cluster.toLowerCase(), [...(out.get(cluster.toLowerCase()) ?? []), String(s.name)]);
  }
  return out;
}

beforeAll(async () => {
  // Azurite on: the simulated Azure Monitor writes kube-audit blobs once a setting exists.
  sim = await startSimForPortal({ blob: true, kubeAuditIntervalMs: 600_000 });
  await setLatency(sim, { lroMs: { storageAccount: 100, providerRegistration: 0 } });
  const { ctx } = testStepContext(sim);
  storage = await storageStep.apply(ctx, await storageStep.read(ctx));
});
afterAll(async () => sim.close());

describe("diagnostic-settings step on the default tenant", () => {
  let output: DiagnosticSettingsOutput;

  it("plans one kube-audit setting per cluster, to the account of its region", async () => {
    const { ctx, writes } = context();
    const plan = diagnosticSettingsStep.plan(ctx, await diagnosticSettingsStep.read(ctx));
    expect(writes).toEqual([]);
    expect(plan.map((l) => `${l.action} ${l.resource}`)).toEqual([
      `create aks-payments-prod/${DIAGNOSTIC_SETTING_NAME}`,
      `create aks-web-prod-weu/${DIAGNOSTIC_SETTING_NAME}`,
      `create aks-dev-eastus/${DIAGNOSTIC_SETTING_NAME}`,
      `create aks-sandbox-weu/${DIAGNOSTIC_SETTING_NAME}`,
    ]);
    expect(plan[0]?.key).toBe(
      `diagnostic-settings.setting:${PAYMENTS}/providers/Microsoft.Insights/diagnosticSettings/${DIAGNOSTIC_SETTING_NAME}`,
    );
    expect(plan[3]?.details).toEqual([
      "logs: kube-audit only",
      `storageAccountId: ${accountId("westeurope")}`,
      "settings on the cluster: 1 of 5",
    ]);
  });

  it("applies: four settings, kube-audit only, and progress per cluster", async () => {
    await clearRequests(sim);
    const { writes, progress, output: out } = await readAndApply();
    output = out;
    expect(writes.map((w) => `${w.kind} ${w.status}`)).toEqual(Array(4).fill("create succeeded"));
    expect(output.blocked).toEqual([]);
    expect(output.settings).toEqual([
      {
        clusterId: PAYMENTS,
        clusterName: "aks-payments-prod",
        name: DIAGNOSTIC_SETTING_NAME,
        storageAccountId: accountId("eastus"),
        adopted: false,
      },
      {
        clusterId: WEB,
        clusterName: "aks-web-prod-weu",
        name: DIAGNOSTIC_SETTING_NAME,
        storageAccountId: accountId("westeurope"),
        adopted: false,
      },
      {
        clusterId: DEV,
        clusterName: "aks-dev-eastus",
        name: DIAGNOSTIC_SETTING_NAME,
        storageAccountId: accountId("eastus"),
        adopted: false,
      },
      {
        clusterId: SANDBOX,
        clusterName: "aks-sandbox-weu",
        name: DIAGNOSTIC_SETTING_NAME,
        storageAccountId: accountId("westeurope"),
        adopted: false,
      },
    ]);
    expect(progress.at(-1)).toEqual({ done: 4, total: 4, label: "Diagnostic settings 4 of 4 clusters" });
    const put = (await simRequests(sim)).find((r) => r.method === "PUT" && r.url.includes("aks-sandbox-weu"));
    expect(put?.body).toEqual({
      properties: { storageAccountId: accountId("westeurope"), logs: [{ category: "kube-audit", enabled: true }] },
    });
  });

  it("applies again with zero writes, also when the account ids come from the config instead of the storage output", async () => {
    await clearRequests(sim);
    for (const ctx of [context(), testStepContext(sim)]) {
      const live = await diagnosticSettingsStep.read(ctx.ctx);
      expect(diagnosticSettingsStep.plan(ctx.ctx, live).map((l) => l.action)).toEqual(Array(4).fill("no-change"));
      expect(await diagnosticSettingsStep.apply(ctx.ctx, live)).toEqual(output);
      expect(ctx.writes).toEqual([]);
    }
    expect((await simRequests(sim)).filter((r) => MUTATING.includes(r.method))).toEqual([]);
  });

  it("verifies kube-audit goes to the right account for every cluster", async () => {
    const result = await diagnosticSettingsStep.verify(context().ctx, output);
    expect(result).toMatchObject({ ok: true });
    if (result.ok)
      expect(result.checks).toContain(
        `aks-sandbox-weu: setting '${DIAGNOSTIC_SETTING_NAME}' sends kube-audit to ${storage.accounts[1]?.name ?? ""}`,
      );
  });
});

describe("log delivery", () => {
  it("kube-audit blobs land in each region's account under Azure's resourceId path", async () => {
    const blobs = await sim.flushKubeAudit();
    const path = (c: (typeof config.clusters)[number]) =>
      `/insights-logs-kube-audit/resourceId=/SUBSCRIPTIONS/${c.subscriptionId.toUpperCase()}/RESOURCEGROUPS/${c.resourceGroup.toUpperCase()}/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/${c.name.toUpperCase()}/y=`;
    for (const c of config.clusters) {
      const account = storage.accounts.find((a) => a.region === c.location);
      const blob = blobs.find((b) => decodeURIComponent(b).includes(path(c)));
      expect(blob, c.name).toBeDefined();
      expect(blob?.startsWith(account?.blobEndpoint ?? "-")).toBe(true);
    }
  });
});

describe("existing settings", () => {
  it("adopts a customer's setting that already sends kube-audit to the same account", async () => {
    await deleteSetting(PAYMENTS, DIAGNOSTIC_SETTING_NAME);
    const put = await armRaw(sim, OWNER, "PUT", settingPath(PAYMENTS, "customer-audit"), {
      properties: {
        storageAccountId: accountId("eastus"),
        logs: [
          { category: "kube-audit", enabled: true },
          { category: "guard", enabled: true },
        ],
      },
    });
    expect(put.status).toBe(200);
    const { ctx, writes } = context();
    const live = await diagnosticSettingsStep.read(ctx);
    const line = diagnosticSettingsStep.plan(ctx, live)[0];
    expect(line).toMatchObject({ action: "adopt", resource: "aks-payments-prod/customer-audit" });
    expect(line?.why).toContain("Your setting 'customer-audit' already sends kube-audit");
    const out = await diagnosticSettingsStep.apply(ctx, live);
    expect(writes).toEqual([]);
    expect(out.settings[0]).toEqual({
      clusterId: PAYMENTS,
      clusterName: "aks-payments-prod",
      name: "customer-audit",
      storageAccountId: accountId("eastus"),
      adopted: true,
    });
    expect(await diagnosticSettingsStep.verify(ctx, out)).toMatchObject({ ok: true });
  });

  it("finishes every other cluster and reports one at Azure's 5-settings maximum as the step's exception", async () => {
    await deleteSetting(WEB, DIAGNOSTIC_SETTING_NAME);
    await deleteSetting(DEV, DIAGNOSTIC_SETTING_NAME);
    for (let n = 1; n <= 5; n++) {
      const r = await armRaw(sim, OWNER, "PUT", settingPath(WEB, `other-${n}`), {
        properties: {
          workspaceId: `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-westeurope/providers/Microsoft.OperationalInsights/workspaces/law-${n}`,
          logs: [{ category: "kube-apiserver", enabled: true }],
        },
      });
      expect(r.status).toBe(200);
    }
    const block = limitBlock({ id: WEB, name: "aks-web-prod-weu" });
    const { ctx, writes, progress } = context();
    const live = await diagnosticSettingsStep.read(ctx);
    const plan = diagnosticSettingsStep.plan(ctx, live);
    expect(plan.find((l) => l.resource.startsWith("aks-web-prod-weu"))).toMatchObject({
      why: `Blocked: ${block.reason}`,
      attention: { kind: "cluster", subject: "aks-web-prod-weu", resourceId: WEB, code: "diagnostic_settings_limit" },
    });
    expect(plan.find((l) => l.resource.startsWith("aks-dev-eastus"))).toMatchObject({ action: "create" });
    expect(plan.find((l) => l.resource.startsWith("aks-dev-eastus"))?.attention).toBeUndefined();

    const out = await diagnosticSettingsStep.apply(ctx, live);
    expect(out.blocked).toEqual([block]);
    expect(out.settings.map((s) => s.clusterName)).toEqual(["aks-payments-prod", "aks-dev-eastus", "aks-sandbox-weu"]);
    expect(writes.map((w) => `${w.target} ${w.status}`)).toEqual(["kube-audit diagnostic setting on aks-dev-eastus succeeded"]);
    expect(progress.at(-1)?.label).toBe("Diagnostic settings 4 of 4 clusters");
    // The exception is not a verification failure: the blocked cluster is not checked, the others are.
    const verdict = await diagnosticSettingsStep.verify(ctx, out);
    expect(verdict).toMatchObject({ ok: true });
    expect(verdict.ok && verdict.checks.map((c) => c.split(":")[0])).toEqual(["aks-payments-prod", "aks-dev-eastus", "aks-sandbox-weu"]);
    expect(verdict.ok && verdict.attention).toEqual([
      {
        kind: "cluster",
        subject: "aks-web-prod-weu",
        resourceId: WEB,
        code: "diagnostic_settings_limit",
        reason: block.reason,
        action: block.action,
      },
    ]);

    await deleteSetting(WEB, "other-5");
    const retry = await readAndApply();
    expect(retry.writes.map((w) => w.target)).toEqual(["kube-audit diagnostic setting on aks-web-prod-weu"]);
    expect(retry.output.blocked).toEqual([]);
    expect(await diagnosticSettingsStep.verify(retry.ctx, retry.output)).toMatchObject({ ok: true });
  });

  it("counts the settings again when the limit is reached between the read and the write", async () => {
    await deleteSetting(WEB, DIAGNOSTIC_SETTING_NAME);
    const { ctx } = context();
    const live = await diagnosticSettingsStep.read(ctx);
    // Someone adds a fifth setting after the read: Azure refuses ours, and the step counts instead of reading the text.
    const r = await armRaw(sim, OWNER, "PUT", settingPath(WEB, "other-5"), {
      properties: {
        workspaceId: `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-westeurope/providers/Microsoft.OperationalInsights/workspaces/law-5`,
        logs: [{ category: "kube-apiserver", enabled: true }],
      },
    });
    expect(r.status).toBe(200);
    const out = await diagnosticSettingsStep.apply(ctx, live);
    expect(out.blocked.map((b) => `${b.clusterName} ${b.code}`)).toEqual(["aks-web-prod-weu diagnostic_settings_limit"]);
    expect(out.settings).toHaveLength(3);
    await deleteSetting(WEB, "other-5");
    expect((await readAndApply()).output.blocked).toEqual([]);
  });

  it("fails the step when no cluster at all can take the setting", async () => {
    const only = { ...config, clusters: config.clusters.filter((c) => c.id === WEB) };
    await deleteSetting(WEB, DIAGNOSTIC_SETTING_NAME);
    const r = await armRaw(sim, OWNER, "PUT", settingPath(WEB, "other-5"), {
      properties: {
        workspaceId: `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-westeurope/providers/Microsoft.OperationalInsights/workspaces/law-5`,
        logs: [{ category: "kube-apiserver", enabled: true }],
      },
    });
    expect(r.status).toBe(200);
    const { ctx } = context({ config: only });
    const error = await azureError(diagnosticSettingsStep.apply(ctx, await diagnosticSettingsStep.read(ctx)));
    expect(error.code).toBe("diagnostic_settings_limit");
    expect(error.message).toContain("nothing to onboard");
    expect(error.message).toContain("aks-web-prod-weu");
    expect(classifyAzureError(error)).toBe("permanent");
    await deleteSetting(WEB, "other-5");
    expect((await readAndApply()).output.blocked).toEqual([]);
  });

  it("reports a cluster deleted after the plan as gone and finishes the others", async () => {
    const ghost = { ...config.clusters.find((c) => c.id === DEV)!, id: DEV.replace("aks-dev-eastus", "aks-deleted"), name: "aks-deleted" };
    const withGhost = { ...config, clusters: [...config.clusters, ghost] };
    const { ctx } = context({ config: withGhost });
    const live = await diagnosticSettingsStep.read(ctx);
    expect(diagnosticSettingsStep.plan(ctx, live).find((l) => l.resource.startsWith("aks-deleted"))?.attention).toMatchObject({
      code: "cluster_gone",
      subject: "aks-deleted",
    });
    const out = await diagnosticSettingsStep.apply(ctx, live);
    expect(out.blocked.map((b) => `${b.clusterName} ${b.code}`)).toEqual(["aks-deleted cluster_gone"]);
    expect(out.settings).toHaveLength(4);
    expect(await diagnosticSettingsStep.verify(ctx, out)).toMatchObject({ ok: true });
  });
});

describe("failures", () => {
  it("completes under injected faults by retrying read+apply, with exactly one kube-audit setting per cluster", async () => {
    for (const cluster of [WEB, DEV, SANDBOX]) await deleteSetting(cluster, DIAGNOSTIC_SETTING_NAME);
    await clearRequests(sim);
    await setFaults(sim, { rate: 0.2, kinds: ["429", "500", "503"], seed: 11 });
    const ctx = context();
    let output: DiagnosticSettingsOutput | undefined;
    try {
      for (let attempt = 0; attempt < 8 && !output; attempt++) {
        try {
          output = await diagnosticSettingsStep.apply(ctx.ctx, await diagnosticSettingsStep.read(ctx.ctx));
        } catch (error) {
          expect(error).toBeInstanceOf(AzureOperationError);
        }
      }
    } finally {
      await setFaults(sim, { rate: 0 });
    }
    expect((await simRequests(sim)).filter((r) => [429, 500, 503].includes(r.status)).length).toBeGreaterThan(0);
    expect(output?.blocked).toEqual([]);
    const byCluster = await kubeAuditSettingsByCluster();
    expect(Object.fromEntries(byCluster)).toEqual({
      [PAYMENTS.toLowerCase()]: ["customer-audit"],
      [WEB.toLowerCase()]: [DIAGNOSTIC_SETTING_NAME],
      [DEV.toLowerCase()]: [DIAGNOSTIC_SETTING_NAME],
      [SANDBOX.toLowerCase()]: [DIAGNOSTIC_SETTING_NAME],
    });
    expect(await diagnosticSettingsStep.verify(ctx.ctx, output as DiagnosticSettingsOutput)).toMatchObject({ ok: true });
  });

  it("tells a Reader which role is missing and writes nothing", async () => {
    await deleteSetting(SANDBOX, DIAGNOSTIC_SETTING_NAME);
    const ctx = context({ upn: READER });
    const live = await diagnosticSettingsStep.read(ctx.ctx);
    const error = await azureError(diagnosticSettingsStep.apply(ctx.ctx, live));
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("Monitoring Contributor");
    expect((await kubeAuditSettingsByCluster()).has(SANDBOX.toLowerCase())).toBe(false);
  });
});
