import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { startTestSimulator } from "../testing";
import { storageAccountResource } from "./storage-accounts";
import { armClients, azureFailure, clusterId, OWNER, READER, READER_OID, SUB_DEV, SUB_PROD } from "./test-support";

let sim: RunningSimulator;
const payments = clusterId(SUB_PROD, "rg-aks-prod-eastus", "aks-payments-prod");
const webWeu = clusterId(SUB_PROD, "rg-aks-prod-westeurope", "aks-web-prod-weu");
const sandbox = clusterId(SUB_DEV, "rg-aks-dev-westeurope", "aks-sandbox-weu");
const eastAccount = `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.Storage/storageAccounts/contosoauditeus`;
const workspace = (n: number) =>
  `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.OperationalInsights/workspaces/law-${n}`;

beforeAll(async () => {
  sim = await startTestSimulator();
  const state = sim.state();
  state.latency = { requestMs: 0, lroMs: { storageAccount: 100 }, replicationMs: 200 };
  state.putArm(
    storageAccountResource(
      state,
      SUB_PROD,
      "rg-aks-prod-eastus",
      "contosoauditeus",
      { location: "eastus", kind: "StorageV2", skuName: "Standard_LRS" },
      "Succeeded",
    ),
  );
});
afterAll(async () => sim.close());

describe("diagnostic settings on AKS clusters", () => {
  it("lists existing settings so they can be adopted", async () => {
    const { monitor } = armClients(sim, READER, SUB_DEV);
    const list = await monitor.diagnosticSettings.list(sandbox);
    expect(list.value?.map((s) => s.name)).toEqual(["send-to-log-analytics"]);
    expect(list.value?.[0]?.logs?.map((l) => l.category)).toEqual(["kube-apiserver", "kube-audit-admin"]);
    expect(list.value?.[0]?.workspaceId).toContain("/workspaces/law-dev-weu");
  });

  it("creates a kube-audit setting to a same-region account and emits diagnosticSettingsChanged", async () => {
    const changed: string[] = [];
    sim.state().events.on("diagnosticSettingsChanged", (id) => changed.push(id));
    const { monitor } = armClients(sim, OWNER);
    const s = await monitor.diagnosticSettings.createOrUpdate(payments, "vendor-kube-audit", {
      storageAccountId: eastAccount,
      logs: [{ category: "kube-audit", enabled: true }],
    });
    expect(s.id).toBe(`${payments}/providers/Microsoft.Insights/diagnosticSettings/vendor-kube-audit`);
    expect(s.storageAccountId).toBe(eastAccount);
    expect(changed).toEqual([payments]);
    const got = await monitor.diagnosticSettings.get(payments, "vendor-kube-audit");
    expect(got.logs?.[0]).toMatchObject({ category: "kube-audit", enabled: true });
  });

  it("refuses reusing the same sink for the same category in another setting", async () => {
    const { monitor } = armClients(sim, OWNER);
    const err = await azureFailure(
      monitor.diagnosticSettings.createOrUpdate(payments, "second", {
        storageAccountId: eastAccount,
        logs: [{ category: "kube-audit", enabled: true }],
      }),
    );
    expect(err.statusCode).toBe(409);
    expect(err.message).toBe(
      `Data sink '${eastAccount}' is already used in diagnostic setting 'vendor-kube-audit' for category 'kube-audit'. Data sinks can't be reused in different settings on the same category for the same resource.`,
    );
  });

  it("allows at most five settings per resource", async () => {
    const { monitor } = armClients(sim, OWNER);
    for (let i = 1; i <= 4; i++)
      await monitor.diagnosticSettings.createOrUpdate(payments, `extra-${i}`, {
        workspaceId: workspace(i),
        logs: [{ category: "kube-apiserver", enabled: true }],
      });
    expect((await monitor.diagnosticSettings.list(payments)).value).toHaveLength(5);
    const err = await azureFailure(
      monitor.diagnosticSettings.createOrUpdate(payments, "extra-5", {
        workspaceId: workspace(5),
        logs: [{ category: "guard", enabled: true }],
      }),
    );
    expect(err.statusCode).toBe(400);
    // Updating one of the five is still fine.
    await monitor.diagnosticSettings.createOrUpdate(payments, "extra-4", {
      workspaceId: workspace(4),
      logs: [{ category: "guard", enabled: true }],
    });
    await monitor.diagnosticSettings.delete(payments, "extra-4");
    expect((await monitor.diagnosticSettings.list(payments)).value).toHaveLength(4);
  });

  it("requires the storage account in the cluster's region and a real AKS category", async () => {
    const { monitor } = armClients(sim, OWNER);
    const region = await azureFailure(
      monitor.diagnosticSettings.createOrUpdate(webWeu, "vendor-kube-audit", {
        storageAccountId: eastAccount,
        logs: [{ category: "kube-audit", enabled: true }],
      }),
    );
    expect(region.statusCode).toBe(400);
    expect(region.message).toContain("Resources should be in the same region.");
    const category = await azureFailure(
      monitor.diagnosticSettings.createOrUpdate(payments, "bad", {
        workspaceId: workspace(9),
        logs: [{ category: "AuditEvent", enabled: true }],
      }),
    );
    expect(category.message).toBe("Category 'AuditEvent' is not supported.");
  });

  it("needs Microsoft.Insights registered in the cluster's subscription", async () => {
    const { monitor } = armClients(sim, OWNER, SUB_DEV);
    const err = await azureFailure(
      monitor.diagnosticSettings.createOrUpdate(sandbox, "vendor-kube-audit", {
        workspaceId: workspace(1),
        logs: [{ category: "kube-audit", enabled: true }],
      }),
    );
    expect(err.statusCode).toBe(409);
    expect(err.message).toBe(`The subscription '${SUB_DEV}' is not registered to use microsoft.insights.`);
  });

  it("needs diagnosticSettings/write on the cluster and listKeys on the account", async () => {
    const reader = armClients(sim, READER);
    const denied = await azureFailure(
      reader.monitor.diagnosticSettings.createOrUpdate(webWeu, "x", {
        workspaceId: workspace(1),
        logs: [{ category: "kube-audit", enabled: true }],
      }),
    );
    expect(denied).toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    expect(denied.message).toContain("'Microsoft.Insights/diagnosticSettings/write'");
    // Monitoring Contributor on the cluster: may write settings, but has no listKeys on the storage account.
    const owner = armClients(sim, OWNER);
    await owner.authorization.roleAssignments.create(payments, "0b0b5a27-6f3e-4d0f-9a59-5c8a3f3f7a11", {
      roleDefinitionId: `/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/roleDefinitions/749f88d5-cbae-40b8-bcfc-e573ddc772fa`,
      principalId: READER_OID,
      principalType: "User",
    });
    const linked = await azureFailure(
      reader.monitor.diagnosticSettings.createOrUpdate(payments, "extra-4", {
        storageAccountId: eastAccount,
        logs: [{ category: "kube-scheduler", enabled: true }],
      }),
    );
    expect(linked).toMatchObject({ statusCode: 403, code: "LinkedAuthorizationFailed" });
    const ok = await reader.monitor.diagnosticSettings.createOrUpdate(payments, "extra-4", {
      workspaceId: workspace(4),
      logs: [{ category: "kube-scheduler", enabled: true }],
    });
    expect(ok.name).toBe("extra-4");
  });
});
