// Least privilege on a real estate (simulator/scenarios/non-entra.json): one cluster without Microsoft Entra integration,
// one with Entra and Azure RBAC, one with Entra and Kubernetes RBAC, and a storage account that isn't an audit account.
// A run that starts from the portal's earlier subscription-wide assignments ends with the AKS role on the Entra clusters
// only, metadata only on the other, Storage Blob Data Reader on the audit accounts only, Log Analytics queries (no "*/read")
// at subscription scope, and verification proves it as the app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeClusterUserCredential } from "../../../lib/azure/probe-cluster-user-credential";
import { acquireFirstToken, appCredential } from "../../../lib/azure/app-credential";
import { listStorageAccounts } from "../../../lib/azure/list-storage-accounts";
import { probeListContainers } from "../../../lib/azure/probe-list-containers";
import { roleAssignmentName } from "../../../lib/azure/names";
import { BUILTIN_ROLE_IDS } from "../../../lib/azure/role-ids";
import { blobReadCondition } from "../../../lib/steps/abac";
import { appRegistrationStep, CLIENT_SECRET_KIND, type AppRegistrationOutput } from "../../../lib/steps/app-registration";
import type { RunConfig } from "../../../lib/steps/config";
import { customRoleStep, type CustomRoleOutput } from "../../../lib/steps/custom-role";
import { diagnosticSettingsStep } from "../../../lib/steps/diagnostic-settings";
import { roleAssignmentsStep, type RoleAssignmentsOutput } from "../../../lib/steps/role-assignments";
import { storageAccountIdOf, storageStep } from "../../../lib/steps/storage";
import { suggestStorageAccountName } from "../../../lib/steps/storage-names";
import type { StepModule } from "../../../lib/steps/types";
import { verificationStep } from "../../../lib/steps/verification";
import type { RunningSimulator } from "../../../simulator/src/index";
import { findRoleDefinition, isAllowed } from "../../../simulator/src/arm/rbac";
import { armRaw, OWNER, simState, startSimForPortal, SUB_DEV, SUB_PROD, TENANT } from "../azure/support";
import { defaultRunConfig, testStepContext, type TestStepContext } from "./context";
import { applyWithRetries } from "./retry";

const PROD = `/subscriptions/${SUB_PROD}`;
const clusterId = (sub: string, rg: string, name: string) =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
const LEGACY = clusterId(SUB_PROD, "rg-aks-prod-eastus", "aks-legacy-noaad");
const PAYMENTS = clusterId(SUB_PROD, "rg-aks-prod-eastus", "aks-payments-prod");
const K8S_RBAC = clusterId(SUB_DEV, "rg-aks-dev-westeurope", "aks-dev-k8srbac");
const USER_CREDENTIAL = "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action";
const LIST_CONTAINERS = "Microsoft.Storage/storageAccounts/blobServices/containers/read";
/** The scenario's storage account that isn't an audit account. */
const APP_DATA = `/subscriptions/${SUB_PROD}/resourceGroups/rg-app-data/providers/Microsoft.Storage/storageAccounts/contosoappdata`;

/** Every cluster of the scenario selected; Entra integration not recorded (as in runs stored before it was): the step reads it live. */
function config(): RunConfig {
  const base = defaultRunConfig();
  return {
    ...base,
    clusters: [
      { id: LEGACY, name: "aks-legacy-noaad", subscriptionId: SUB_PROD, resourceGroup: "rg-aks-prod-eastus", location: "eastus" },
      { id: PAYMENTS, name: "aks-payments-prod", subscriptionId: SUB_PROD, resourceGroup: "rg-aks-prod-eastus", location: "eastus" },
      { id: K8S_RBAC, name: "aks-dev-k8srbac", subscriptionId: SUB_DEV, resourceGroup: "rg-aks-dev-westeurope", location: "westeurope" },
    ],
    storage: ["eastus", "westeurope"].map((region) => ({
      region,
      subscriptionId: SUB_PROD,
      resourceGroup: "rg-aks-audit",
      createResourceGroup: true,
      accountName: suggestStorageAccountName(TENANT, region),
      adopt: false,
    })),
  };
}

interface Assignment {
  type: string;
  name: string;
  properties: { scope: string; principalId: string; roleDefinitionId: string; condition?: string | null; conditionVersion?: string | null };
}

let sim: RunningSimulator;
let t: TestStepContext;
let app: AppRegistrationOutput;
let role: CustomRoleOutput;

beforeAll(async () => {
  sim = await startSimForPortal({ blob: true, scenario: "simulator/scenarios/non-entra.json", kubeAuditIntervalMs: 600_000 });
  t = testStepContext(sim, { config: config() });
  const steps: StepModule[] = [storageStep, diagnosticSettingsStep, appRegistrationStep, customRoleStep];
  for (const step of steps) t.ctx.outputs[step.id] = (await applyWithRetries(step, t.ctx)).result;
  app = t.ctx.outputs["app-registration"] as AppRegistrationOutput;
  role = t.ctx.outputs["custom-role"] as CustomRoleOutput;
  t.ctx.outputs["workbench-handoff"] = { mode: "api", deviceId: "device-1", deviceName: "aks-onboarding test" };
}, 240_000);
afterAll(async () => sim?.close());

async function assignmentsOfApp(): Promise<Assignment[]> {
  const state = await simState(sim);
  return (state.arm as Assignment[]).filter(
    (r) => r.type === "Microsoft.Authorization/roleAssignments" && r.properties.principalId === app.servicePrincipalId,
  );
}

const roleOf = (a: Assignment) => (a.properties.roleDefinitionId.split("/").pop() ?? "").toLowerCase();

async function appSecret(): Promise<string> {
  const stored = await t.ctx.secrets.get(CLIENT_SECRET_KIND);
  if (!stored) throw new Error("the run's secret is gone");
  return stored.value;
}

describe("least privilege on an estate with a cluster without Microsoft Entra integration", () => {
  it("starts from the portal's earlier subscription-wide AKS role and Log Analytics Reader: the app gets that cluster's cluster-admin kubeconfig and lists the containers of every account", async () => {
    const put = (scope: string, guid: string, condition?: string) =>
      armRaw(
        sim,
        OWNER,
        "PUT",
        `${scope}/providers/Microsoft.Authorization/roleAssignments/${roleAssignmentName(scope, app.servicePrincipalId, guid)}?api-version=2022-04-01`,
        {
          properties: {
            roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
            principalId: app.servicePrincipalId,
            principalType: "ServicePrincipal",
            ...(condition ? { condition, conditionVersion: "2.0" } : {}),
          },
        },
      );
    expect((await put(PROD, role.roleId)).status).toBe(201);
    expect(
      (await put(PROD, BUILTIN_ROLE_IDS.storageBlobDataReader, blobReadCondition(config().storage.map((s) => s.accountName)))).status,
    ).toBe(201);
    expect((await put(PROD, BUILTIN_ROLE_IDS.logAnalyticsReader)).status).toBe(201);
    expect(isAllowed(sim.state(), app.servicePrincipalId, USER_CREDENTIAL, LEGACY)).toBe(true);
    const credential = appCredential({ tenantId: TENANT, clientId: app.appId, secret: await appSecret() });
    // The run's secret may still be inside Entra's propagation window: sign in as verification does first.
    expect(await acquireFirstToken(credential, "https://management.azure.com/.default")).toMatchObject({ ok: true });
    const probe = await probeClusterUserCredential(credential, SUB_PROD, "rg-aks-prod-eastus", "aks-legacy-noaad");
    expect(probe).toEqual({ kind: "allowed", kubeconfigs: 1 });
    // Log Analytics Reader's "*/read" includes List Containers on an account that isn't an audit account.
    const appData = (await listStorageAccounts(t.ctx.arm, SUB_PROD)).find((a) => a.name === "contosoappdata");
    expect(await probeListContainers(credential, appData?.blobEndpoint ?? "")).toEqual({ kind: "allowed" });
  }, 120_000);

  it("plans the narrow assignments with the non-Entra cluster's note, and the removal of the wide ones", async () => {
    const live = await roleAssignmentsStep.read(t.ctx);
    expect(live.clusters?.map((c) => [c.clusterName, c.entraIntegration, c.azureRbac, c.source])).toEqual([
      ["aks-legacy-noaad", false, false, "live"],
      ["aks-payments-prod", true, true, "live"],
      ["aks-dev-k8srbac", true, false, "live"],
    ]);
    const plan = roleAssignmentsStep.plan(t.ctx, live);
    const legacy = plan.find((c) => c.key === `role-assignments.${role.metadataRoleId}:${LEGACY}`);
    expect(legacy).toMatchObject({
      action: "create",
      resource: `AKS cluster metadata reader at ${LEGACY}`,
      why: expect.stringContaining("no Microsoft Entra integration"),
    });
    expect(legacy?.details?.join("\n")).toMatch(
      /The vendor sees: the cluster's metadata[\s\S]*kube-audit log[\s\S]*doesn't get: a kubeconfig[\s\S]*az aks update --resource-group rg-aks-prod-eastus --name aks-legacy-noaad --enable-aad/,
    );
    expect(plan.find((c) => c.key === `role-assignments.${role.roleId}:${K8S_RBAC}`)?.details).toEqual([
      expect.stringContaining("Kubernetes RBAC decides"),
    ]);
    expect(plan.filter((c) => c.action === "remove").map((c) => c.resource)).toEqual([
      `AKS Audit Log Reader (read-only) at ${PROD}`,
      `Storage Blob Data Reader at ${PROD}`,
      `Log Analytics Reader at ${PROD}`,
    ]);
  });

  it("ends with no credential action on the non-Entra cluster, the AKS role on the Entra clusters only, and blob reads on the audit accounts only", async () => {
    t.ctx.outputs["role-assignments"] = (await applyWithRetries(roleAssignmentsStep, t.ctx)).result;
    const assignments = await assignmentsOfApp();
    // Nothing the app holds grants listClusterUserCredential on the cluster without Entra integration, at any scope.
    expect(isAllowed(sim.state(), app.servicePrincipalId, USER_CREDENTIAL, LEGACY)).toBe(false);
    expect(isAllowed(sim.state(), app.servicePrincipalId, "Microsoft.ContainerService/managedClusters/read", LEGACY)).toBe(true);
    expect(
      assignments
        .filter((a) => roleOf(a) === role.roleId)
        .map((a) => a.properties.scope.toLowerCase())
        .sort(),
    ).toEqual([PAYMENTS, K8S_RBAC].map((s) => s.toLowerCase()).sort());
    expect(assignments.filter((a) => roleOf(a) === role.metadataRoleId).map((a) => a.properties.scope.toLowerCase())).toEqual([
      LEGACY.toLowerCase(),
    ]);
    const blobReaders = assignments.filter((a) => roleOf(a) === BUILTIN_ROLE_IDS.storageBlobDataReader);
    expect(
      blobReaders.map((a) => [a.properties.scope.toLowerCase(), a.properties.condition, a.properties.conditionVersion]).sort(),
    ).toEqual(
      config()
        .storage.map((s) => [storageAccountIdOf(s).toLowerCase(), blobReadCondition([s.accountName]), "2.0"])
        .sort(),
    );
    // At subscription scope only the Log Analytics query role is left, and no role of the app there carries a wildcard read.
    const wide = assignments.filter((a) => /^\/subscriptions\/[^/]+$/i.test(a.properties.scope));
    expect(wide.map(roleOf)).toEqual([role.logAnalyticsRoleId, role.logAnalyticsRoleId]);
    const wideActions = wide.flatMap(
      (a) => findRoleDefinition(sim.state(), roleOf(a))?.permissions.flatMap((p) => p.actions) ?? ["(role not found)"],
    );
    expect(wideActions.length).toBeGreaterThan(0);
    expect(wideActions.filter((x) => x === "*" || x === "*/read" || x.startsWith("*/"))).toEqual([]);
    expect(isAllowed(sim.state(), app.servicePrincipalId, LIST_CONTAINERS, APP_DATA)).toBe(false);
    expect(await roleAssignmentsStep.verify(t.ctx, t.ctx.outputs["role-assignments"] as RoleAssignmentsOutput)).toMatchObject({ ok: true });
  }, 120_000);

  it("verification, signed in as the app, proves both: no kubeconfig of the non-Entra cluster, no container listing or delegation key in the non-audit account", async () => {
    const out = await verificationStep.apply(t.ctx, await verificationStep.read(t.ctx));
    const check = (id: string) => out.checks.find((c) => c.id === id);
    expect(check(`aks-credential:${LEGACY}`)).toMatchObject({ status: "pass", reason: expect.stringContaining("AuthorizationFailed") });
    // Only the cluster without Entra integration is probed: on the others the user kubeconfig carries no credential.
    expect(out.checks.filter((c) => c.id.startsWith("aks-credential:"))).toHaveLength(1);
    expect(check("container-list")).toMatchObject({
      status: "pass",
      reason: expect.stringMatching(/list of containers in contosoappdata \(AuthorizationPermissionMismatch\)/),
    });
    expect(check("storage-scope")).toMatchObject({ status: "pass", reason: expect.stringContaining("contosoappdata") });
    // Log Analytics queries still work as the app with the query-only role.
    expect(out.checks.filter((c) => c.id.startsWith("log-analytics:")).map((c) => c.status)).toContain("pass");
    expect(out.checks.filter((c) => c.status === "fail")).toEqual([]);
  }, 120_000);
});
