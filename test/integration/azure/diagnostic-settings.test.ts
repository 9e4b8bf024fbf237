// lib/azure diagnostic-settings operations against the simulated ARM (Azure Monitor's rules on AKS clusters).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStorageAccount } from "../../../lib/azure/create-storage-account";
import { ensureResourceGroup } from "../../../lib/azure/ensure-resource-group";
import { classifyAzureError } from "../../../lib/azure/errors";
import { getProviderRegistration } from "../../../lib/azure/get-provider-registration";
import { listDiagnosticSettings } from "../../../lib/azure/list-diagnostic-settings";
import { putDiagnosticSetting } from "../../../lib/azure/put-diagnostic-setting";
import { registerProvider } from "../../../lib/azure/register-provider";
import type { RunningSimulator } from "../../../simulator/src/index";
import {
  armOfType,
  armRaw,
  azureError,
  clearRequests,
  OWNER,
  READER,
  simRequests,
  startSimForPortal,
  SUB_DEV,
  SUB_PROD,
  userCredential,
} from "./support";

let sim: RunningSimulator;
const owner = () => userCredential(sim, OWNER, "arm");
const reader = () => userCredential(sim, READER, "arm");
const cluster = (sub: string, rg: string, name: string) =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
const PAYMENTS = cluster(SUB_PROD, "rg-aks-prod-eastus", "aks-payments-prod");
const WEB_WEU = cluster(SUB_PROD, "rg-aks-prod-westeurope", "aks-web-prod-weu");
const SANDBOX_DEV = cluster(SUB_DEV, "rg-aks-dev-westeurope", "aks-sandbox-weu");
const SETTING = "vendor-kube-audit";
let eastusAccountId = "";

beforeAll(async () => {
  sim = await startSimForPortal();
  await ensureResourceGroup(owner(), SUB_PROD, "rg-vendor-audit", "eastus");
  eastusAccountId = (await createStorageAccount(owner(), SUB_PROD, "rg-vendor-audit", { name: "contosoauditeus01", location: "eastus" }))
    .id;
});
afterAll(async () => sim.close());

describe("kube-audit diagnostic setting", () => {
  it("sends kube-audit only to the storage account, without retention or a double slash", async () => {
    await clearRequests(sim);
    const saved = await putDiagnosticSetting(owner(), PAYMENTS, SETTING, eastusAccountId);
    expect(saved).toEqual({
      name: SETTING,
      storageAccountId: eastusAccountId,
      workspaceId: null,
      eventHubAuthorizationRuleId: null,
      enabledCategories: ["kube-audit"],
    });
    const put = (await simRequests(sim)).find((r) => r.method === "PUT");
    expect(put?.url.startsWith(`${PAYMENTS}/providers/Microsoft.Insights/diagnosticSettings/${SETTING}?`)).toBe(true);
    expect(put?.body).toEqual({ properties: { storageAccountId: eastusAccountId, logs: [{ category: "kube-audit", enabled: true }] } });
  });

  it("lists the cluster's settings as domain objects, and a re-run updates instead of adding", async () => {
    await putDiagnosticSetting(owner(), PAYMENTS, SETTING, eastusAccountId);
    const settings = await listDiagnosticSettings(owner(), PAYMENTS);
    expect(settings).toEqual([
      {
        name: SETTING,
        storageAccountId: eastusAccountId,
        workspaceId: null,
        eventHubAuthorizationRuleId: null,
        enabledCategories: ["kube-audit"],
      },
    ]);
    expect((await armOfType(sim, "Microsoft.Insights/diagnosticSettings")).filter((s) => String(s.id).startsWith(PAYMENTS))).toHaveLength(
      1,
    );
  });

  it("shows an existing Log Analytics setting with its categories", async () => {
    const settings = await listDiagnosticSettings(owner(), SANDBOX_DEV);
    expect(settings).toEqual([
      expect.objectContaining({
        name: "send-to-log-analytics",
        storageAccountId: null,
        enabledCategories: ["kube-apiserver", "kube-audit-admin"],
      }),
    ]);
    expect(settings[0]?.workspaceId).toContain("/workspaces/law-dev-weu");
  });

  it("maps reuse of the same sink for kube-audit under another name to sink_in_use, naming the setting", async () => {
    const error = await azureError(putDiagnosticSetting(owner(), PAYMENTS, "second-name", eastusAccountId));
    expect(error).toMatchObject({ code: "sink_in_use", azureCode: "Conflict", status: 409 });
    expect(error.message).toContain(`'${SETTING}'`);
    expect(classifyAzureError(error)).toBe("permanent");
  });

  it("maps an account in another region to region_mismatch", async () => {
    const error = await azureError(putDiagnosticSetting(owner(), WEB_WEU, SETTING, eastusAccountId));
    expect(error).toMatchObject({ code: "region_mismatch", status: 400 });
  });

  it("maps the 5-settings limit to diagnostic_settings_limit", async () => {
    const workspace = (n: number) =>
      `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-westeurope/providers/Microsoft.OperationalInsights/workspaces/law-${n}`;
    for (let n = 1; n <= 5; n++) {
      const r = await armRaw(
        sim,
        OWNER,
        "PUT",
        `${WEB_WEU}/providers/Microsoft.Insights/diagnosticSettings/other-${n}?api-version=2021-05-01-preview`,
        {
          properties: { workspaceId: workspace(n), logs: [{ category: "kube-apiserver", enabled: true }] },
        },
      );
      expect(r.status).toBe(200);
    }
    await ensureResourceGroup(owner(), SUB_PROD, "rg-vendor-audit-weu", "westeurope");
    const weu = await createStorageAccount(owner(), SUB_PROD, "rg-vendor-audit-weu", { name: "contosoauditweu01", location: "westeurope" });
    const error = await azureError(putDiagnosticSetting(owner(), WEB_WEU, SETTING, weu.id));
    expect(error).toMatchObject({ code: "diagnostic_settings_limit", status: 400 });
    expect(error.message).toContain("5");
    expect(await listDiagnosticSettings(owner(), WEB_WEU)).toHaveLength(5);
  });

  it("tells a Reader which roles writing the setting needs", async () => {
    const error = await azureError(putDiagnosticSetting(reader(), PAYMENTS, "reader-setting", eastusAccountId));
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("Monitoring Contributor");
    expect(await listDiagnosticSettings(reader(), PAYMENTS)).toHaveLength(1);
  });

  it("maps Azure Monitor's 'not registered to use microsoft.insights' conflict, and works after registering", async () => {
    const devCluster = cluster(SUB_DEV, "rg-aks-dev-eastus", "aks-dev-eastus");
    const error = await azureError(putDiagnosticSetting(owner(), devCluster, SETTING, eastusAccountId));
    expect(error).toMatchObject({ code: "provider_not_registered", azureCode: "Conflict" });
    expect(error.message).toContain("microsoft.insights");
    await registerProvider(owner(), SUB_DEV, "Microsoft.Insights", { pollIntervalMs: 100, timeoutMs: 10_000 });
    expect((await getProviderRegistration(owner(), SUB_DEV, "Microsoft.Insights")).registered).toBe(true);
    // Cross-subscription destination in the same region is allowed.
    const saved = await putDiagnosticSetting(owner(), devCluster, SETTING, eastusAccountId);
    expect(saved.enabledCategories).toEqual(["kube-audit"]);
  });
});
