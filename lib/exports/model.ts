// The plan as data for the change-approval exports: every name, scope and body derived from the run's config and stored plan
// with the helpers the steps use, so the CLI script and the Terraform say exactly what the portal would do.
import "server-only";
import { kubeAuditSettingBody, KUBE_AUDIT_CATEGORY } from "@/lib/azure/put-diagnostic-setting";
import { customRoleBody } from "@/lib/azure/put-custom-role-definition";
import { storageAccountCreateParameters } from "@/lib/azure/create-storage-account";
import { kubeAuditRetentionRule, KUBE_AUDIT_PREFIX, KUBE_AUDIT_RULE_NAME } from "@/lib/azure/put-management-policy";
import { customRoleId, PROJECT_NAMESPACE } from "@/lib/azure/names";
import { LOG_ANALYTICS_DATA_READ, WELL_KNOWN_APP_IDS } from "@/lib/azure/graph-ids";
import { fullRoleDefinitionId } from "@/lib/azure/create-role-assignment";
import type { StoredPlan } from "@/lib/onboarding/plan";
import { CONDITION_VERSION } from "@/lib/steps/abac";
import type { RunConfig } from "@/lib/steps/config";
import { CUSTOM_ROLES } from "@/lib/steps/custom-role";
import { DIAGNOSTIC_SETTING_NAME, storageAccountIdForCluster } from "@/lib/steps/diagnostic-settings";
import { runCredentialName } from "@/lib/steps/app-registration";
import {
  clusterAccessFromConfig,
  desiredAssignments,
  portalRoleIds,
  type ClusterAccess,
  type PortalRoleIds,
} from "@/lib/steps/role-assignments";
import { creationTags, STORAGE_PROVIDER_NAMESPACES, storageAccountIdOf } from "@/lib/steps/storage";
import type { ChangeAction, PlannedChange } from "@/lib/steps/types";

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
  storageBaseline: {
    kind: string;
    sku: string;
    minimumTlsVersion: string;
    httpsOnly: boolean;
    allowBlobPublicAccess: boolean;
    allowCrossTenantReplication: boolean;
  };
  /** null: open to all networks; else deny by default, these IPs, AzureServices bypass. */
  allowedIps: string[] | null;
  /** Tags on the resource groups and accounts the run creates (the admin's and managed-by), as the storage step sends them. */
  tags: { name: string; value: string }[];
  lifecycleRule: { name: string; prefix: string; blobTypes: string[]; deleteAfterDays: number };
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

const subscriptionOfId = (id: string) => /^\/subscriptions\/([^/]+)/i.exec(id)?.[1] ?? "";

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

/** The export model of a run: config + stored plan, no Azure calls. */
export function exportModel(input: { runId: string; tenantId: string; config: RunConfig; plan: StoredPlan | null }): ExportModel {
  const { runId, tenantId, config, plan } = input;
  const planned = lookup(plan);
  const subs = [
    ...new Map(
      [...config.storage.map((s) => s.subscriptionId), ...config.clusters.map((c) => c.subscriptionId)].map((id) => [id.toLowerCase(), id]),
    ).values(),
  ];

  const groups = new Map<string, ExportModel["resourceGroups"][number]>();
  for (const s of config.storage) {
    const k = `${s.subscriptionId}/${s.resourceGroup}`.toLowerCase();
    if (!groups.has(k)) {
      groups.set(k, {
        subscriptionId: s.subscriptionId,
        name: s.resourceGroup,
        location: s.region,
        planned: planned(`storage.resource-group:/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}`),
      });
    }
  }

  const allowedIps = config.options.restrictNetwork ? config.vendor.egressIps.map((ip) => ip.trim().replace(/\/32$/, "")) : null;
  // The body the storage step sends: the export's properties come from it, not from a second list.
  const body = storageAccountCreateParameters({ name: "x", location: "x", ...(allowedIps ? { allowedIps } : {}) });
  const rule = kubeAuditRetentionRule(config.options.retentionDays);

  const storageAccounts = config.storage.map((s) => {
    const id = storageAccountIdOf(s);
    const network = planned(`storage.network:${id}`);
    return {
      region: s.region,
      subscriptionId: s.subscriptionId,
      resourceGroup: s.resourceGroup,
      name: s.accountName,
      id,
      adopt: s.adopt,
      planned: planned(`storage.account:${id}`),
      network: network.action === "unplanned" ? null : network,
      removedIps: network.details
        .filter((d) => d.startsWith("ipRules: -"))
        .flatMap((d) => d.slice("ipRules: ".length).split(", "))
        .map((ip) => ip.replace(/^-/, "")),
      lifecycle: planned(`storage.lifecycle:${id}/managementPolicies/default`),
    };
  });

  const diagnosticSettings = config.clusters.map((c) => {
    const storageAccountId = storageAccountIdForCluster(config, {}, c);
    const setting = kubeAuditSettingBody(storageAccountId);
    return {
      clusterId: c.id,
      clusterName: c.name,
      subscriptionId: c.subscriptionId,
      name: DIAGNOSTIC_SETTING_NAME,
      category: setting.logs?.[0]?.category ?? KUBE_AUDIT_CATEGORY,
      storageAccountId: setting.storageAccountId ?? storageAccountId,
      planned: planned(`diagnostic-settings.setting:${c.id}/providers/Microsoft.Insights/diagnosticSettings/${DIAGNOSTIC_SETTING_NAME}`),
    };
  });

  const roles: PortalRoleIds = portalRoleIds(tenantId);
  const customRoles = CUSTOM_ROLES.map((spec) => {
    const id = customRoleId(tenantId, spec.key);
    const body = customRoleBody({
      roleId: id,
      roleName: spec.roleName,
      description: spec.description,
      permissions: spec.permissions.map((p) => ({ ...p })),
      subscriptionIds: config.subscriptions.map((s) => s.id),
    });
    const permission = spec.permissions[0];
    return {
      key: spec.key,
      id,
      roleName: body.roleName ?? spec.roleName,
      description: body.description ?? spec.description,
      actions: [...(permission?.actions ?? [])],
      notActions: [...(permission?.notActions ?? [])],
      dataActions: [...(permission?.dataActions ?? [])],
      notDataActions: [...(permission?.notDataActions ?? [])],
      assignableScopes: body.assignableScopes ?? [],
      planned: planned(`custom-role.put:${id}`),
    };
  });
  const roleChanges = plan?.steps.find((s) => s.stepId === "role-assignments")?.changes ?? [];
  const { uniqueName, displayName } = { uniqueName: config.vendor.appUniqueName, displayName: config.vendor.appDisplayName };
  const la = WELL_KNOWN_APP_IDS.logAnalyticsApi;

  return {
    runId,
    tenantId,
    planComputedAt: plan?.computedAt ?? "",
    subscriptions: config.subscriptions.map((s) => ({ id: s.id, displayName: s.displayName })),
    providers: subs.flatMap((sub) =>
      STORAGE_PROVIDER_NAMESPACES.map((ns) => ({
        subscriptionId: sub,
        namespace: ns,
        planned: planned(`storage.register:/subscriptions/${sub}/providers/${ns}`),
      })),
    ),
    resourceGroups: [...groups.values()],
    storageAccounts,
    storageBaseline: {
      kind: body.kind,
      sku: body.sku.name,
      minimumTlsVersion: body.minimumTlsVersion ?? "TLS1_2",
      httpsOnly: body.enableHttpsTrafficOnly ?? true,
      allowBlobPublicAccess: body.allowBlobPublicAccess ?? false,
      allowCrossTenantReplication: body.allowCrossTenantReplication ?? false,
    },
    allowedIps: body.networkRuleSet?.defaultAction === "Deny" ? (body.networkRuleSet.ipRules ?? []).map((r) => r.iPAddressOrRange) : null,
    tags: Object.entries(creationTags(config.options)).map(([name, value]) => ({ name, value })),
    lifecycleRule: {
      name: KUBE_AUDIT_RULE_NAME,
      prefix: rule.definition.filters?.prefixMatch?.[0] ?? KUBE_AUDIT_PREFIX,
      blobTypes: rule.definition.filters?.blobTypes ?? [],
      deleteAfterDays: rule.definition.actions.baseBlob?.delete?.daysAfterModificationGreaterThan ?? config.options.retentionDays,
    },
    diagnosticSettings,
    app: {
      uniqueName,
      displayName,
      planned: planned(`app-registration.app:${uniqueName}`),
      servicePrincipal: planned(`app-registration.service-principal:${uniqueName}`),
      logAnalyticsAppId: la,
      logAnalyticsServicePrincipal: planned(`app-registration.log-analytics-service-principal:${la}`),
      dataReadRole: LOG_ANALYTICS_DATA_READ,
      consent: planned(`app-registration.consent:${uniqueName}/${LOG_ANALYTICS_DATA_READ}`),
      secretName: runCredentialName(runId),
      secretLifetimeDays: config.options.secretLifetimeDays,
      secret: planned(`app-registration.secret:${runCredentialName(runId)}`),
    },
    customRoles,
    roleAssignments: desiredAssignments(config, roles, undefined, plannedClusterAccess(config, roles, roleChanges)).map((d) => ({
      scope: d.scope,
      subscriptionId: subscriptionOfId(d.scope),
      roleName: d.roleName,
      roleGuid: d.roleGuid,
      roleDefinitionId: fullRoleDefinitionId(d.scope, d.roleGuid),
      condition: d.condition ?? null,
      conditionVersion: d.condition ? CONDITION_VERSION : null,
      planned: planned(`role-assignments.${d.roleGuid}:${d.scope}`),
    })),
    roleAssignmentRemovals: roleChanges.flatMap((c) => {
      const m = /^role-assignments\.([0-9a-f-]{36}):(.+)$/i.exec(c.key);
      if (c.action !== "remove" || !m?.[1] || !m[2]) return [];
      return [
        {
          scope: m[2],
          subscriptionId: subscriptionOfId(m[2]),
          roleName: c.resource.replace(/ at .*$/, ""),
          roleGuid: m[1],
          planned: planned(c.key),
        },
      ];
    }),
    assignmentNamespace: PROJECT_NAMESPACE,
    planErrors: (plan?.steps ?? []).flatMap((s) => (s.error ? [{ stepId: s.stepId, message: s.error.message }] : [])),
  };
}

/** Each cluster's access as the stored plan decided it (from the cluster read then), else as the config recorded it. */
function plannedClusterAccess(config: RunConfig, roles: PortalRoleIds, changes: readonly PlannedChange[]): ClusterAccess[] {
  const keys = new Set(changes.filter((c) => c.action !== "remove").map((c) => c.key.toLowerCase()));
  return clusterAccessFromConfig(config).map((a) => {
    if (keys.has(`role-assignments.${roles.aks}:${a.clusterId}`.toLowerCase())) return { ...a, entraIntegration: true };
    if (keys.has(`role-assignments.${roles.metadata}:${a.clusterId}`.toLowerCase())) return { ...a, entraIntegration: false };
    return a;
  });
}

/** Whether the export writes this object (create/update/grant/register) or only refers to it (exists, adopted). */
export function writes(p: Planned): boolean {
  if (p.blocked !== undefined) return false;
  return p.action === "create" || p.action === "update" || p.action === "grant" || p.action === "register" || p.action === "unplanned";
}
