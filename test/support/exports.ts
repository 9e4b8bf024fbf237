// The exports' test fixture: a 2-region, 2-subscription run and the plan the steps' own plan functions make for it.
import type { TokenCredential } from "@azure/core-auth";
import { customRoleId } from "@/lib/azure/names";
import type { StoredPlan } from "@/lib/onboarding/plan";
import { appRegistrationStep } from "@/lib/steps/app-registration";
import type { RunConfig } from "@/lib/steps/config";
import {
  AKS_CLUSTER_METADATA_ROLE_KEY,
  AKS_READ_ONLY_ROLE_KEY,
  customRoleStep,
  LOG_ANALYTICS_QUERY_ROLE_KEY,
} from "@/lib/steps/custom-role";
import { diagnosticSettingsStep } from "@/lib/steps/diagnostic-settings";
import { clusterAccessFromConfig, desiredAssignments, roleAssignmentsStep } from "@/lib/steps/role-assignments";
import { storageAccountIdOf, storageStep } from "@/lib/steps/storage";
import type { StepContext } from "@/lib/steps/types";

/** The fixture's tenant. */
export const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
/** Subscription A: the eastus cluster and its new account in a new resource group. */
export const SUB_A = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
/** Subscription B: the westeurope cluster and the customer's own account, adopted. */
export const SUB_B = "2cf36c9a-02f4-41d4-b097-7345a8e2806e";
/** The fixture's run id (the client secret's name derives from it). */
export const RUN = "run_exports_1";
const clusterId = (sub: string, rg: string, name: string) =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;

/** Two regions in two subscriptions: a new account in eastus (A, new group), the customer's own account adopted in westeurope (B). */
export const config: RunConfig = {
  tenantId: TENANT,
  subscriptions: [
    { id: SUB_A, displayName: "Contoso Production" },
    { id: SUB_B, displayName: "Contoso Development" },
  ],
  clusters: [
    {
      id: clusterId(SUB_A, "rg-aks-prod", "aks-payments"),
      name: "aks-payments",
      subscriptionId: SUB_A,
      resourceGroup: "rg-aks-prod",
      location: "eastus",
      entraIntegration: true,
    },
    {
      id: clusterId(SUB_B, "rg-aks-dev", "aks-sandbox"),
      name: "aks-sandbox",
      subscriptionId: SUB_B,
      resourceGroup: "rg-aks-dev",
      location: "westeurope",
      entraIntegration: false,
    },
  ],
  storage: [
    {
      region: "eastus",
      subscriptionId: SUB_A,
      resourceGroup: "rg-kube-audit",
      createResourceGroup: true,
      accountName: "kubeauditeus1a2b3c",
      adopt: false,
    },
    {
      region: "westeurope",
      subscriptionId: SUB_B,
      resourceGroup: "rg-aks-dev",
      createResourceGroup: false,
      accountName: "contosoauditweu01",
      adopt: true,
    },
  ],
  options: { restrictNetwork: true, retentionDays: 90, secretLifetimeDays: 180, tags: { costCenter: "cc-4711" } },
  vendor: {
    name: "Expel",
    appUniqueName: "expel-workbench-aks",
    appDisplayName: "Expel Workbench (AKS audit)",
    egressIps: ["20.42.7.1", "52.170.9.80"],
  },
};

const ctx = {
  runId: RUN,
  tenantId: TENANT,
  actorUpn: "owner@contoso.onmicrosoft.com",
  config,
  arm: {} as TokenCredential,
  graph: {} as TokenCredential,
  outputs: {},
} as unknown as StepContext;
/** The tenant's custom role id, as the steps derive it. */
export const ROLE_ID = customRoleId(TENANT, AKS_READ_ONLY_ROLE_KEY);
/** The tenant's metadata-only role id (clusters without Entra integration). */
export const METADATA_ROLE_ID = customRoleId(TENANT, AKS_CLUSTER_METADATA_ROLE_KEY);
/** The Log Analytics query role's id in TENANT. */
export const LOG_ANALYTICS_ROLE_ID = customRoleId(TENANT, LOG_ANALYTICS_QUERY_ROLE_KEY);
const LA_SP = {
  id: "0f9d2c3b-1111-4a4a-9b9b-222222222222",
  appId: "ca7f3f0b-7d91-482c-8e09-c5d840d0eac5",
  displayName: "Log Analytics API",
  appRoles: [
    {
      id: "e8f6e161-84d0-4cd7-9441-2d46ec9ec3d5",
      value: "Data.Read",
      displayName: "Read data",
      allowedMemberTypes: ["Application"],
      isEnabled: true,
    },
  ],
};
const adoptedAccount = {
  id: storageAccountIdOf(config.storage[1] ?? config.storage[0]!),
  name: "contosoauditweu01",
  location: "westeurope",
  kind: "StorageV2",
  sku: "Standard_LRS",
  isHnsEnabled: false,
  httpsOnly: true,
  minTls: "TLS1_2",
  allowBlobPublicAccess: false,
  allowCrossTenantReplication: false,
  networkRules: { defaultAction: "Allow" as const, bypass: "AzureServices", ipRules: [] },
  blobEndpoint: undefined,
  provisioningState: "Succeeded",
};

/** The plan exactly as the steps produce it from these live reads (no Azure: the modules' pure plan functions). */
export const plan: StoredPlan = {
  computedAt: "2026-11-27T07:00:00.000Z",
  steps: [
    {
      stepId: "storage",
      changes: storageStep.plan(ctx, {
        providers: [
          { subscriptionId: SUB_A, namespace: "Microsoft.Storage", state: "Registered", registered: true },
          { subscriptionId: SUB_A, namespace: "Microsoft.Insights", state: "Registered", registered: true },
          { subscriptionId: SUB_B, namespace: "Microsoft.Storage", state: "Registered", registered: true },
          { subscriptionId: SUB_B, namespace: "Microsoft.Insights", state: "NotRegistered", registered: false },
        ],
        regions: [
          {
            choice: config.storage[0]!,
            accountId: storageAccountIdOf(config.storage[0]!),
            resourceGroupExists: false,
            account: null,
            nameCheck: { available: true },
            policy: null,
          },
          {
            choice: config.storage[1]!,
            accountId: adoptedAccount.id,
            resourceGroupExists: true,
            account: adoptedAccount,
            nameCheck: null,
            policy: null,
          },
        ],
      } as Parameters<typeof storageStep.plan>[1]),
    },
    {
      stepId: "diagnostic-settings",
      changes: diagnosticSettingsStep.plan(ctx, {
        clusters: config.clusters.map((c, i) => ({ cluster: c, storageAccountId: storageAccountIdOf(config.storage[i]!), settings: [] })),
      }),
    },
    {
      stepId: "app-registration",
      changes: appRegistrationStep.plan(ctx, {
        app: null,
        servicePrincipal: null,
        logAnalytics: LA_SP,
        dataReadRoleId: LA_SP.appRoles[0]!.id,
        consentGranted: false,
        runCredential: null,
        secretStored: false,
      }),
    },
    {
      stepId: "custom-role",
      changes: customRoleStep.plan(ctx, {
        roles: [
          { key: AKS_READ_ONLY_ROLE_KEY, roleId: ROLE_ID, existing: null },
          { key: AKS_CLUSTER_METADATA_ROLE_KEY, roleId: METADATA_ROLE_ID, existing: null },
          { key: LOG_ANALYTICS_QUERY_ROLE_KEY, roleId: LOG_ANALYTICS_ROLE_ID, existing: null },
        ],
      }),
    },
    {
      stepId: "role-assignments",
      changes: roleAssignmentsStep.plan(ctx, {
        principalId: null,
        roleId: ROLE_ID,
        desired: desiredAssignments(
          config,
          { aks: ROLE_ID, metadata: METADATA_ROLE_ID, logAnalytics: LOG_ANALYTICS_ROLE_ID },
          undefined,
          clusterAccessFromConfig(config),
        ),
        existing: {},
      }),
    },
    { stepId: "workbench-handoff", changes: [] },
  ],
};
