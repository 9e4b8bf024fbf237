// The plan as data for the change-approval exports: every name, scope and body from the steps' own descriptions of what they
// write, each decided by its stored plan line, so the CLI script and the Terraform say exactly what the portal would do.
import "server-only";
import type { StoredPlan } from "@/lib/onboarding/plan";
import { describeAppRegistration } from "@/lib/steps/app-registration";
import type { RunConfig } from "@/lib/steps/config";
import { describeCustomRoles } from "@/lib/steps/custom-role";
import { describeDiagnosticSettings } from "@/lib/steps/diagnostic-settings";
import type { StepId } from "@/lib/steps/registry";
import { describeRoleAssignments } from "@/lib/steps/role-assignments";
import { describeStorage, type StorageDescription } from "@/lib/steps/storage";
import type { ChangeAction, DescribeInput, PlannedChange } from "@/lib/steps/types";

/** What the export does with one object: write it, or only reference it because the plan found it in place. */
export type ExportAction = ChangeAction | "unplanned";

/** One line's plan decision, with the plan's property details (for comments). */
export interface Planned {
  action: ExportAction;
  details: string[];
  why: string;
  /** The plan knows this write can't be done (a cluster at the settings limit): the export writes a comment, not a command. */
  blocked?: string;
}

/** Everything both exports render. */
export interface ExportModel {
  runId: string;
  tenantId: string;
  planComputedAt: string;
  subscriptions: { id: string; displayName: string }[];
  providers: { subscriptionId: string; namespace: string; planned: Planned }[];
  resourceGroups: { subscriptionId: string; name: string; location: string; planned: Planned }[];
  storageAccounts: {
    region: string;
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    id: string;
    adopt: boolean;
    planned: Planned;
    network: Planned | null;
    /** IP rules the firewall update removes (the plan's "ipRules: -…" details), as data: no command is built from text. */
    removedIps: string[];
    lifecycle: Planned;
  }[];
  /** The create body's secure properties, as the storage step sends them. */
  storageBaseline: StorageDescription["baseline"];
  /** null: open to all networks; else deny by default, these IPs, AzureServices bypass. */
  allowedIps: StorageDescription["allowedIps"];
  /** Tags on the resource groups and accounts the run creates (the admin's and managed-by), as the storage step sends them. */
  tags: StorageDescription["tags"];
  lifecycleRule: StorageDescription["lifecycleRule"];
  diagnosticSettings: {
    clusterId: string;
    clusterName: string;
    subscriptionId: string;
    name: string;
    category: string;
    storageAccountId: string;
    planned: Planned;
  }[];
  app: {
    uniqueName: string;
    displayName: string;
    planned: Planned;
    servicePrincipal: Planned;
    logAnalyticsAppId: string;
    logAnalyticsServicePrincipal: Planned;
    dataReadRole: string;
    consent: Planned;
    secretName: string;
    secretLifetimeDays: number;
    secret: Planned;
  };
  /** The portal's custom roles: read-only AKS (Entra clusters) and cluster metadata (clusters without Entra integration). */
  customRoles: {
    /** The role's key (customRoleId) and Terraform resource name. */
    key: string;
    id: string;
    roleName: string;
    description: string;
    actions: string[];
    notActions: string[];
    dataActions: string[];
    notDataActions: string[];
    assignableScopes: string[];
    planned: Planned;
  }[];
  roleAssignments: {
    scope: string;
    subscriptionId: string;
    roleName: string;
    roleGuid: string;
    roleDefinitionId: string;
    condition: string | null;
    conditionVersion: string | null;
    planned: Planned;
  }[];
  /** The portal's earlier, broader assignments the plan removes once the narrow ones exist (narrowing). */
  roleAssignmentRemovals: { scope: string; subscriptionId: string; roleName: string; roleGuid: string; planned: Planned }[];
  /** UUIDv5 namespace of role assignment names: name = uuidv5(namespace, lower(scope|principalObjectId|roleGuid)). */
  assignmentNamespace: string;
  /** Steps whose plan failed: their lines are exported as the steps would write them, with the error as a warning. */
  planErrors: { stepId: string; message: string }[];
}

function lookup(plan: StoredPlan | null) {
  const byKey = new Map<string, PlannedChange>();
  for (const s of plan?.steps ?? []) for (const c of s.changes) byKey.set(c.key.toLowerCase(), c);
  return (key: string): Planned => {
    const c = byKey.get(key.toLowerCase());
    if (!c) return { action: "unplanned", details: [], why: "not in the stored plan" };
    return {
      action: c.action,
      details: c.details ?? [],
      why: c.why,
      ...(c.attention ? { blocked: `${c.attention.reason} ${c.attention.action}` } : {}),
    };
  };
}

/** The export model of a run: the steps' descriptions of what they write, each decided by its stored plan line; no Azure calls. */
export function exportModel(input: { runId: string; tenantId: string; config: RunConfig; plan: StoredPlan | null }): ExportModel {
  const { runId, tenantId, config, plan } = input;
  const planned = lookup(plan);
  const of = (stepId: StepId): DescribeInput => ({
    runId,
    tenantId,
    config,
    planned: plan?.steps.find((s) => s.stepId === stepId)?.changes ?? [],
  });
  const storage = describeStorage(of("storage"));
  const app = describeAppRegistration(of("app-registration"));
  const roles = describeRoleAssignments(of("role-assignments"));

  return {
    runId,
    tenantId,
    planComputedAt: plan?.computedAt ?? "",
    subscriptions: config.subscriptions.map((s) => ({ id: s.id, displayName: s.displayName })),
    providers: storage.providers.map((p) => ({ ...p.properties, planned: planned(p.key) })),
    resourceGroups: storage.resourceGroups.map((g) => ({
      subscriptionId: g.properties.subscriptionId,
      name: g.name,
      location: g.properties.location,
      planned: planned(g.key),
    })),
    storageAccounts: storage.accounts.map(({ key, name, properties: a }) => {
      const network = planned(a.networkKey);
      return {
        region: a.region,
        subscriptionId: a.subscriptionId,
        resourceGroup: a.resourceGroup,
        name,
        id: a.id,
        adopt: a.adopt,
        planned: planned(key),
        network: network.action === "unplanned" ? null : network,
        removedIps: a.removedIps,
        lifecycle: planned(a.lifecycleKey),
      };
    }),
    storageBaseline: storage.baseline,
    allowedIps: storage.allowedIps,
    tags: storage.tags,
    lifecycleRule: storage.lifecycleRule,
    diagnosticSettings: describeDiagnosticSettings(of("diagnostic-settings")).map((d) => ({
      clusterId: d.scope,
      clusterName: d.properties.clusterName,
      subscriptionId: d.properties.subscriptionId,
      name: d.name,
      category: d.properties.category,
      storageAccountId: d.properties.storageAccountId,
      planned: planned(d.key),
    })),
    app: {
      uniqueName: app.app.name,
      displayName: app.app.properties.displayName,
      planned: planned(app.app.key),
      servicePrincipal: planned(app.servicePrincipal.key),
      logAnalyticsAppId: app.logAnalyticsServicePrincipal.properties.appId,
      logAnalyticsServicePrincipal: planned(app.logAnalyticsServicePrincipal.key),
      dataReadRole: app.consent.properties.role,
      consent: planned(app.consent.key),
      secretName: app.secret.name,
      secretLifetimeDays: app.secret.properties.lifetimeDays,
      secret: planned(app.secret.key),
    },
    customRoles: describeCustomRoles(of("custom-role")).map(({ key, name, properties: r }) => ({
      key: r.roleKey,
      id: r.id,
      roleName: name,
      description: r.description,
      actions: r.actions,
      notActions: r.notActions,
      dataActions: r.dataActions,
      notDataActions: r.notDataActions,
      assignableScopes: r.assignableScopes,
      planned: planned(key),
    })),
    roleAssignments: roles.assignments.map(({ key, name, scope, properties: a }) => ({
      scope,
      subscriptionId: a.subscriptionId,
      roleName: name,
      roleGuid: a.roleGuid,
      roleDefinitionId: a.roleDefinitionId,
      condition: a.condition,
      conditionVersion: a.conditionVersion,
      planned: planned(key),
    })),
    roleAssignmentRemovals: roles.removals.map(({ key, name, scope, properties: r }) => ({
      scope,
      subscriptionId: r.subscriptionId,
      roleName: name,
      roleGuid: r.roleGuid,
      planned: planned(key),
    })),
    assignmentNamespace: roles.assignmentNamespace,
    planErrors: (plan?.steps ?? []).flatMap((s) => (s.error ? [{ stepId: s.stepId, message: s.error.message }] : [])),
  };
}

/** Whether the export writes this object (create/update/grant/register) or only refers to it (exists, adopted). */
export function writes(p: Planned): boolean {
  if (p.blocked !== undefined) return false;
  return p.action === "create" || p.action === "update" || p.action === "grant" || p.action === "register" || p.action === "unplanned";
}
