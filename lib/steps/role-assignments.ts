// Step: the vendor's service principal gets the portal's Log Analytics query role per subscription, the read-only AKS role on each selected
// cluster with Microsoft Entra integration (metadata only on the others), and Storage Blob Data Reader on each audit
// account with the manual's condition. Subscription-wide assignments made by earlier versions are removed (narrowing).
import "server-only";
import { z } from "zod";
import { mapPerGroupSettled } from "@/lib/concurrency";
import { createRoleAssignment, fullRoleDefinitionId } from "@/lib/azure/create-role-assignment";
import { deleteRoleAssignment } from "@/lib/azure/delete-role-assignment";
import { AzureOperationError, classifyAzureError } from "@/lib/azure/errors";
import { getApplicationByUniqueName } from "@/lib/azure/get-application-by-unique-name";
import { getManagedCluster } from "@/lib/azure/get-managed-cluster";
import { listManagedClusters, type ManagedCluster } from "@/lib/azure/list-managed-clusters";
import { getRoleAssignmentById } from "@/lib/azure/get-role-assignment";
import { getServicePrincipalByAppId } from "@/lib/azure/get-service-principal-by-app-id";
import { listPrincipalAssignmentsInSubscription, type RoleAssignmentInfo } from "@/lib/azure/list-principal-assignments";
import { customRoleId, PROJECT_NAMESPACE, roleAssignmentName } from "@/lib/azure/names";
import { subscriptionOf } from "@/lib/azure/clients";
import { BUILTIN_ROLE_IDS, CONDITION_VERSION, roleGuid } from "@/lib/azure/role-ids";
import { blobReadCondition } from "./abac";
import type { ClusterChoice, RunConfig } from "./config";
import { vendorPrincipalId } from "./app-registration";
import { splitKey } from "./keys";
import { standardRemoval } from "./removal";
import { retryWriteOnReplication } from "./replication-retry";
import {
  AKS_CLUSTER_METADATA_ROLE,
  AKS_CLUSTER_METADATA_ROLE_KEY,
  AKS_READ_ONLY_ROLE,
  AKS_READ_ONLY_ROLE_KEY,
  LOG_ANALYTICS_QUERY_ROLE,
  LOG_ANALYTICS_QUERY_ROLE_KEY,
} from "./custom-role";
import { storageAccountIdOf } from "./storage";
import type { ChangeAction, DescribedResource, DescribeInput, PlannedChange, StepContext, StepModule, VerifyResult } from "./types";

/** The portal's custom roles in this tenant. */
export interface PortalRoleIds {
  /** The read-only AKS role: clusters with Microsoft Entra integration. */
  aks: string;
  /** Cluster metadata only: clusters without it. */
  metadata: string;
  /** Log Analytics queries only: each selected subscription. */
  logAnalytics: string;
}

/** The portal's custom role ids in a tenant (deterministic: customRoleId of each key). */
export function portalRoleIds(tenantId: string): PortalRoleIds {
  return {
    aks: customRoleId(tenantId, AKS_READ_ONLY_ROLE_KEY),
    metadata: customRoleId(tenantId, AKS_CLUSTER_METADATA_ROLE_KEY),
    logAnalytics: customRoleId(tenantId, LOG_ANALYTICS_QUERY_ROLE_KEY),
  };
}

/** How the vendor may reach one selected cluster, decided by its Microsoft Entra integration. */
export interface ClusterAccess {
  clusterId: string;
  clusterName: string;
  resourceGroup: string;
  entraIntegration: boolean;
  /** Azure RBAC for Kubernetes authorization; null when the cluster could not be read (config fallback). */
  azureRbac: boolean | null;
  /** live: read from the cluster now; config: the read failed, the run's recorded value (absent = no Entra) is used. */
  source: "live" | "config";
}

/** One assignment the vendor needs. */
export interface DesiredAssignment {
  scope: string;
  roleName: string;
  roleGuid: string;
  condition?: string;
  /** The cluster an AKS-role or metadata-role assignment is for. */
  cluster?: ClusterAccess;
}

/** A subscription-wide assignment an earlier version of the portal made (its deterministic name) that is now narrowed. */
export interface StaleAssignment {
  scope: string;
  roleName: string;
  roleGuid: string;
  name: string;
  why: string;
}

/** What Azure has now: the principal (null until the app registration exists) and its assignments at the scopes. */
export interface RoleAssignmentsLive {
  principalId: string | null;
  roleId: string;
  desired: DesiredAssignment[];
  /** The principal's assignments exactly at each desired scope (lower-case scope → assignments). */
  existing: Record<string, RoleAssignmentInfo[]>;
  /** The portal's own broader assignments to remove once the narrow ones exist. */
  stale?: StaleAssignment[];
  /** Each selected cluster's Entra integration as read now. */
  clusters?: ClusterAccess[];
}

/** One assignment as made (or adopted). */
export interface RoleAssignmentOutputItem {
  scope: string;
  roleName: string;
  roleDefinitionId: string;
  name: string;
  condition?: string;
}

/** The step's output: every assignment the vendor holds for this run. */
export interface RoleAssignmentsOutput {
  assignments: RoleAssignmentOutputItem[];
  /** The portal's earlier subscription-wide assignments removed by this apply ("scope|name"). */
  removed?: string[];
  /** Each selected cluster's access as decided (verification probes the ones without Entra integration). */
  clusters?: ClusterAccess[];
}

/** What a desired assignment needs: nothing, a new one, a condition fix under our name, or an admin's attention. */
export type AssignmentDecision =
  | { kind: "no-change" | "adopt"; existing: RoleAssignmentInfo }
  | { kind: "create"; name: string | null }
  | { kind: "update"; existing: RoleAssignmentInfo }
  | { kind: "conflict"; existing: RoleAssignmentInfo };

const appOutputSchema = z.object({ servicePrincipalId: z.string().min(1) });
const customRoleOutputSchema = z.object({
  roleId: z.string().min(1),
  metadataRoleId: z.string().min(1).optional(),
  logAnalyticsRoleId: z.string().min(1).optional(),
});
const storageOutputSchema = z.object({
  accounts: z.array(
    z.object({
      name: z.string().optional(),
      accountName: z.string().optional(),
      subscriptionId: z.string().optional(),
      resourceGroup: z.string().optional(),
      id: z.string().optional(),
    }),
  ),
});

function scopeOf(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId.toLowerCase()}`;
}

function same(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? "").toLowerCase() === (b ?? "").toLowerCase();
}

/** One audit storage account: its ARM id (the assignment scope) and name (the condition's value). */
export interface AuditAccountRef {
  id: string;
  name: string;
  subscriptionId: string;
}

/** The audit storage accounts: the storage step's outputs when present, else the run's configuration. */
export function auditAccountRefs(config: RunConfig, storageOutput: unknown): AuditAccountRef[] {
  const parsed = storageOutputSchema.safeParse(storageOutput);
  const fromOutput = parsed.success
    ? parsed.data.accounts.flatMap((a) => {
        const name = a.name ?? a.accountName;
        const sub = a.subscriptionId ?? /^\/subscriptions\/([^/]+)/i.exec(a.id ?? "")?.[1];
        if (!name || !sub) return [];
        const rg =
          a.resourceGroup ??
          /\/resourceGroups\/([^/]+)/i.exec(a.id ?? "")?.[1] ??
          config.storage.find((s) => same(s.accountName, name))?.resourceGroup;
        const id = a.id ?? (rg ? storageAccountIdOf({ subscriptionId: sub, resourceGroup: rg, accountName: name }) : null);
        return id ? [{ id, name, subscriptionId: sub }] : [];
      })
    : [];
  if (fromOutput.length > 0) return fromOutput;
  return config.storage.map((s) => ({ id: storageAccountIdOf(s), name: s.accountName, subscriptionId: s.subscriptionId }));
}

/** The audit storage accounts by subscription: the storage step's outputs when present, else the run's configuration. */
export function storageAccountsBySubscription(config: RunConfig, storageOutput: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of auditAccountRefs(config, storageOutput))
    out.set(a.subscriptionId.toLowerCase(), [...(out.get(a.subscriptionId.toLowerCase()) ?? []), a.name]);
  return out;
}

/** Each selected cluster's access from the run's configuration alone (no reads): absent Entra integration counts as none. */
export function clusterAccessFromConfig(config: RunConfig): ClusterAccess[] {
  return config.clusters.map((c) => accessOf(c, c.entraIntegration ?? false, null, "config"));
}

function accessOf(c: ClusterChoice, entraIntegration: boolean, azureRbac: boolean | null, source: ClusterAccess["source"]): ClusterAccess {
  return { clusterId: c.id, clusterName: c.name, resourceGroup: c.resourceGroup, entraIntegration, azureRbac, source };
}

/**
 * Every assignment the vendor needs, in plan order. Scopes are as narrow as the vendor's work allows: a subscription-wide
 * AKS role would reach unselected and future clusters, and hand a cluster-admin kubeconfig out on clusters without
 * Microsoft Entra integration (AKS docs, control-kubeconfig-access); Storage Blob Data Reader's condition gates data
 * actions only, so container listing and user delegation keys would stay open on every account in a wider scope. Log
 * Analytics is the portal's query-only role: Log Analytics Reader's "*\/read" would list every account's containers.
 */
export function desiredAssignments(
  config: RunConfig,
  roles: PortalRoleIds,
  storageOutput?: unknown,
  clusters: readonly ClusterAccess[] = clusterAccessFromConfig(config),
): DesiredAssignment[] {
  const out: DesiredAssignment[] = [];
  for (const s of config.subscriptions) {
    out.push({ scope: scopeOf(s.id), roleName: LOG_ANALYTICS_QUERY_ROLE.roleName, roleGuid: roles.logAnalytics });
  }
  for (const c of config.clusters) {
    const access = clusters.find((a) => same(a.clusterId, c.id)) ?? accessOf(c, c.entraIntegration ?? false, null, "config");
    const role = access.entraIntegration
      ? { roleName: AKS_READ_ONLY_ROLE.roleName, roleGuid: roles.aks }
      : { roleName: AKS_CLUSTER_METADATA_ROLE.roleName, roleGuid: roles.metadata };
    out.push({ scope: c.id, ...role, cluster: access });
  }
  for (const a of auditAccountRefs(config, storageOutput)) {
    out.push({
      scope: a.id,
      roleName: "Storage Blob Data Reader",
      roleGuid: BUILTIN_ROLE_IDS.storageBlobDataReader,
      condition: blobReadCondition([a.name]),
    });
  }
  return out;
}

/**
 * The portal's own assignments (deterministic names) that are broader than `desired`: the AKS role, Storage Blob Data
 * Reader and Log Analytics Reader at a selected subscription's scope (earlier versions), and the other AKS role on a cluster whose Entra
 * integration changed. Assignments under any other name are the customer's and never listed.
 */
export function staleAssignments(
  config: RunConfig,
  roles: PortalRoleIds,
  principalId: string,
  desired: readonly DesiredAssignment[],
  existing: Record<string, RoleAssignmentInfo[]>,
): StaleAssignment[] {
  const out: StaleAssignment[] = [];
  const ours = (scope: string, guid: string) =>
    (existing[scope] ?? []).find((a) => same(a.roleDefinitionGuid, guid) && same(a.name, roleAssignmentName(scope, principalId, guid)));
  for (const s of config.subscriptions) {
    const scope = scopeOf(s.id);
    const wide: [string, string, string][] = [
      [
        roles.aks,
        AKS_READ_ONLY_ROLE.roleName,
        "Narrowed to the selected clusters with Microsoft Entra integration: at subscription scope it reaches every cluster, including unselected and future ones.",
      ],
      [
        BUILTIN_ROLE_IDS.storageBlobDataReader,
        "Storage Blob Data Reader",
        "Narrowed to the audit storage accounts: at subscription scope its container listing and user delegation keys reach every account.",
      ],
      [
        BUILTIN_ROLE_IDS.logAnalyticsReader,
        "Log Analytics Reader",
        `Replaced by ${LOG_ANALYTICS_QUERY_ROLE.roleName}: Log Analytics Reader's */read also lists every storage account's containers and reads every resource's settings.`,
      ],
    ];
    for (const [guid, roleName, why] of wide) {
      const found = ours(scope, guid);
      if (found) out.push({ scope, roleName, roleGuid: guid, name: found.name, why });
    }
  }
  for (const d of desired) {
    if (!d.cluster) continue;
    const other = same(d.roleGuid, roles.aks)
      ? { guid: roles.metadata, roleName: AKS_CLUSTER_METADATA_ROLE.roleName }
      : { guid: roles.aks, roleName: AKS_READ_ONLY_ROLE.roleName };
    const found = ours(d.scope, other.guid);
    if (found)
      out.push({
        scope: d.scope,
        roleName: other.roleName,
        roleGuid: other.guid,
        name: found.name,
        why: `Replaced by ${d.roleName}: the cluster's Microsoft Entra integration changed.`,
      });
  }
  return out;
}

function sameCondition(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? null) === (b ?? null);
}

/** Compare one desired assignment with the principal's assignments at its scope. */
export function decide(d: DesiredAssignment, principalId: string | null, atScope: RoleAssignmentInfo[]): AssignmentDecision {
  if (!principalId) return { kind: "create", name: null };
  const name = roleAssignmentName(d.scope, principalId, d.roleGuid);
  const matches = atScope.filter(
    (a) => same(a.principalId, principalId) && same(a.roleDefinitionGuid, d.roleGuid) && same(a.scope.replace(/\/+$/, ""), d.scope),
  );
  const exact = matches.find((a) => sameCondition(a.condition, d.condition));
  if (exact) return { kind: same(exact.name, name) ? "no-change" : "adopt", existing: exact };
  const ours = matches.find((a) => same(a.name, name));
  if (ours) return { kind: "update", existing: ours };
  const other = matches[0];
  if (other) return { kind: "conflict", existing: other };
  return { kind: "create", name };
}

async function principalOf(ctx: StepContext): Promise<string | null> {
  const fromOutput = appOutputSchema.safeParse(ctx.outputs["app-registration"]);
  if (fromOutput.success) return fromOutput.data.servicePrincipalId;
  // Planning before the app registration step ran: look the principal up; absent means every assignment is new.
  const app = await getApplicationByUniqueName(ctx.graph, ctx.config.vendor.appUniqueName);
  if (!app) return null;
  return (await getServicePrincipalByAppId(ctx.graph, app.appId))?.id ?? null;
}

function roleIdsOf(ctx: StepContext): PortalRoleIds {
  const fromOutput = customRoleOutputSchema.safeParse(ctx.outputs["custom-role"]);
  const ids = portalRoleIds(ctx.tenantId);
  if (!fromOutput.success) return ids;
  return {
    aks: fromOutput.data.roleId,
    metadata: fromOutput.data.metadataRoleId ?? ids.metadata,
    logAnalytics: fromOutput.data.logAnalyticsRoleId ?? ids.logAnalytics,
  };
}

// ARM's read and write budgets are per subscription: every subscription at once, at most this many in flight in each
// (with diagnostic settings' 32 beside them, far inside the 200-write burst; a run makes one assignment per
// subscription, cluster and audit account, so most subscriptions' assignments go in one round).
const PER_SUBSCRIPTION_CONCURRENCY = 32;

// From this many selected clusters in a subscription, one list of its clusters (full objects, paged) costs fewer
// requests and less of the subscription's read budget than a GET each.
const LIST_CLUSTERS_FROM = 8;

/** Each selected cluster read now (a cluster may have gained Entra integration since the run was created); the run's value when the read fails. */
async function readClusterAccess(ctx: StepContext): Promise<ClusterAccess[]> {
  const bySubscription = new Map<string, ClusterChoice[]>();
  for (const c of ctx.config.clusters) {
    const key = c.subscriptionId.toLowerCase();
    bySubscription.set(key, [...(bySubscription.get(key) ?? []), c]);
  }
  // Subscription → its clusters by id, for each subscription whose list was answered.
  const listed = new Map<string, Map<string, ManagedCluster>>();
  const listable = [...bySubscription.entries()].filter(([, cs]) => cs.length >= LIST_CLUSTERS_FROM);
  await mapPerGroupSettled(
    listable,
    ([sub]) => sub,
    1,
    async ([sub]) => {
      try {
        const clusters = await listManagedClusters(ctx.arm, sub);
        listed.set(sub, new Map(clusters.map((c) => [c.id.toLowerCase(), c])));
      } catch (error) {
        if (mustRetry(error)) throw error;
        // Read access on some resource groups only: the list is refused at the subscription, a cluster's GET may not be.
      }
    },
  );
  return mapPerGroupSettled(
    ctx.config.clusters,
    (c) => c.subscriptionId,
    PER_SUBSCRIPTION_CONCURRENCY,
    async (c) => {
      const list = listed.get(c.subscriptionId.toLowerCase());
      if (list) {
        // A list shows only the clusters the caller may read; one missing from it is treated as a failed GET.
        const live = list.get(c.id.toLowerCase());
        return live ? accessOf(c, live.entraIntegration, live.azureRbac, "live") : accessOf(c, c.entraIntegration ?? false, null, "config");
      }
      try {
        const live = await getManagedCluster(ctx.arm, c.subscriptionId, c.resourceGroup, c.name);
        return accessOf(c, live.entraIntegration, live.azureRbac, "live");
      } catch (error) {
        if (mustRetry(error)) throw error;
        return accessOf(c, c.entraIntegration ?? false, null, "config");
      }
    },
  );
}

// Throttling, outages and an expired sign-in are the engine's to retry; a cluster that can't be read is not.
function mustRetry(error: unknown): boolean {
  return (error instanceof AzureOperationError && error.code === "reauth_required") || classifyAzureError(error) === "transient";
}

/** The principal's assignments made exactly at each of `scopes`: one list per subscription, whatever the number of scopes. */
async function listAt(ctx: StepContext, scopes: string[], principalId: string): Promise<Record<string, RoleAssignmentInfo[]>> {
  const subscriptions = [...new Set(scopes.map((scope) => subscriptionOf(scope).toLowerCase()))];
  // Every subscription at once: one request each, in budgets of their own (the in-flight bound still applies).
  const lists = await mapPerGroupSettled(
    subscriptions,
    (s) => s,
    1,
    (subscriptionId) => listPrincipalAssignmentsInSubscription(ctx.arm, subscriptionId, principalId),
  );
  const all = lists.flat();
  return Object.fromEntries(scopes.map((scope) => [scope, all.filter((a) => same(a.scope.replace(/\/+$/, ""), scope))]));
}

const KEY_HEAD = "role-assignments.";

/** The role-assignments step's operation-log key and its parser (the strings are persisted: they never change). */
export const roleAssignmentKeys = {
  assignment: (d: Pick<DesiredAssignment, "roleGuid" | "scope">) => `${KEY_HEAD}${d.roleGuid}:${d.scope}`,
  parse(key: string): { kind: "assignment"; roleGuid: string; scope: string } | null {
    const k = splitKey(key);
    return k?.head.startsWith(KEY_HEAD) ? { kind: "assignment", roleGuid: k.head.slice(KEY_HEAD.length), scope: k.value } : null;
  },
};
const keyOf = roleAssignmentKeys.assignment;

async function read(ctx: StepContext): Promise<RoleAssignmentsLive> {
  const roles = roleIdsOf(ctx);
  // Subscription scopes are among the desired ones (the Log Analytics query role): earlier, broader assignments show up there.
  // A cluster's read picks its role, never its scope, so the assignments are listed while the clusters are read.
  const scopes = [...new Set(desiredAssignments(ctx.config, roles, ctx.outputs.storage).map((d) => d.scope))];
  const listing = principalOf(ctx).then(async (id) => ({ principalId: id, existing: id ? await listAt(ctx, scopes, id) : {} }));
  const [clusters, { principalId, existing }] = await Promise.all([readClusterAccess(ctx), listing]);
  const desired = desiredAssignments(ctx.config, roles, ctx.outputs.storage, clusters);
  const stale = principalId ? staleAssignments(ctx.config, roles, principalId, desired, existing) : [];
  return { principalId, roleId: roles.aks, desired, existing, stale, clusters };
}

const WHY: Record<string, string> = {
  [BUILTIN_ROLE_IDS.storageBlobDataReader]:
    "Lets the vendor read audit log blobs in this audit storage account only (ABAC condition on the account's name).",
};

/** The docs page on enabling Microsoft Entra integration on an existing cluster. */
export const ENABLE_ENTRA_DOCS = "https://learn.microsoft.com/azure/aks/enable-authentication-microsoft-entra-id";

/** What the plan tells the admin about one cluster's access. */
export function clusterNotes(d: DesiredAssignment): { why: string; details: string[] } | null {
  const c = d.cluster;
  if (!c) return null;
  const from = c.source === "config" ? " (as recorded when the run was created: the cluster could not be read now)" : "";
  if (!c.entraIntegration) {
    return {
      why: `${c.clusterName} has no Microsoft Entra integration${from}: its user credential would be cluster-admin, so the vendor gets cluster metadata only.`,
      details: [
        "The vendor sees: the cluster's metadata (name, version, node pools, settings) and its kube-audit log in the audit storage account.",
        "The vendor doesn't get: a kubeconfig, or any read inside the cluster (pods, namespaces, other Kubernetes objects).",
        `To give the vendor read-only access inside the cluster, enable Microsoft Entra integration: az aks update --resource-group ${c.resourceGroup} --name ${c.clusterName} --enable-aad --enable-azure-rbac (${ENABLE_ENTRA_DOCS}), then re-check coverage or retry this step.`,
      ],
    };
  }
  if (c.azureRbac === false) {
    return {
      why: `Lets the vendor read ${c.clusterName} and get its Entra-based kubeconfig (no credential in it), never its secrets.`,
      details: [
        "Azure RBAC for Kubernetes authorization is off on this cluster: the role's dataActions have no effect inside it, Kubernetes RBAC decides (bind the vendor's app to a read-only ClusterRole to let it read objects).",
      ],
    };
  }
  return null;
}

function plan(ctx: StepContext, live: RoleAssignmentsLive): PlannedChange[] {
  const lines = live.desired.map((d): PlannedChange => {
    const decision = decide(d, live.principalId, live.existing[d.scope] ?? []);
    const action: ChangeAction = decision.kind === "conflict" ? "update" : decision.kind;
    const details: string[] = [];
    if (decision.kind === "create" && d.condition) details.push(`condition: ${d.condition}`);
    if (decision.kind === "update") details.push(`condition: ${decision.existing.condition ?? "(none)"} → ${d.condition ?? "(none)"}`);
    if (decision.kind === "conflict") {
      details.push(
        `assignment ${decision.existing.name} has condition: ${decision.existing.condition ?? "(none)"}`,
        `wanted: ${d.condition ?? "(none)"}`,
      );
    }
    const notes = clusterNotes(d);
    if (notes) details.push(...notes.details);
    const why =
      decision.kind === "conflict"
        ? "An assignment of this role to the vendor exists under another name with a different condition; the portal won't change it. Remove it in the Azure portal and apply again."
        : decision.kind === "adopt"
          ? "The vendor already holds this role here (assigned outside this portal); it is kept."
          : (notes?.why ??
            WHY[d.roleGuid] ??
            (d.cluster
              ? "Lets the vendor read this selected cluster, never its secrets."
              : "Lets the vendor query Log Analytics in this subscription, and read nothing else there."));
    return {
      stepId: "role-assignments" as const,
      key: keyOf(d),
      action,
      resourceType: "Role assignment",
      resource: `${d.roleName} at ${d.scope}`,
      why,
      ...(details.length > 0 ? { details } : {}),
    };
  });
  const removals = (live.stale ?? []).map((x): PlannedChange => ({
    stepId: "role-assignments" as const,
    key: keyOf(x),
    action: "remove",
    resourceType: "Role assignment",
    resource: `${x.roleName} at ${x.scope}`,
    why: x.why,
    details: [`assignment ${x.name}, made by this portal; removed after the narrower assignments exist`],
  }));
  return [...lines, ...removals];
}

async function apply(ctx: StepContext, live: RoleAssignmentsLive): Promise<RoleAssignmentsOutput> {
  const principalId = live.principalId ?? (await principalOf(ctx));
  if (!principalId) {
    throw new AzureOperationError(
      "not_found",
      "The vendor's service principal does not exist yet, so the portal could not assign its roles. Run the App registration step first.",
    );
  }
  // Planned before the principal existed: read its assignments now (a retried run may already have made some).
  const existing = live.principalId ? live.existing : await listAt(ctx, [...new Set(live.desired.map((d) => d.scope))], principalId);
  const stale = live.principalId ? (live.stale ?? []) : staleAssignments(ctx.config, roleIdsOf(ctx), principalId, live.desired, existing);
  const total = live.desired.length;
  const conflicts: string[] = [];
  let done = 0;
  await ctx.progress({ done, total, label: `Role assignments 0 of ${total}` });
  // Independent assignments run side by side (bounded per subscription); every one settles before a failure is thrown.
  const settled = await mapPerGroupSettled(
    live.desired,
    (d) => subscriptionOf(d.scope),
    PER_SUBSCRIPTION_CONCURRENCY,
    async (d): Promise<{ item?: RoleAssignmentOutputItem; error?: unknown }> => {
      const roleDefinitionId = fullRoleDefinitionId(d.scope, d.roleGuid);
      const decision = decide(d, principalId, existing[d.scope] ?? []);
      const item = (name: string): RoleAssignmentOutputItem => ({
        scope: d.scope,
        roleName: d.roleName,
        roleDefinitionId,
        name,
        ...(d.condition ? { condition: d.condition } : {}),
      });
      const finish = async <T>(r: T): Promise<T> => {
        done += 1;
        await ctx.progress({ done, total, label: `Role assignments ${done} of ${total}` });
        return r;
      };
      if (decision.kind === "no-change" || decision.kind === "adopt") return finish({ item: item(decision.existing.name) });
      if (decision.kind === "conflict") {
        conflicts.push(`${d.roleName} at ${d.scope} (assignment ${decision.existing.name})`);
        return finish({});
      }
      const name = decision.kind === "update" ? decision.existing.name : roleAssignmentName(d.scope, principalId, d.roleGuid);
      try {
        // A custom role or principal younger than ARM's replication fails just this PUT: retry it alone, not the step.
        const kind = decision.kind;
        const saved = await retryWriteOnReplication(ctx, () =>
          ctx.write(
            { key: keyOf(d), kind, target: `${d.roleName} at ${d.scope}` },
            () => assign(ctx, d, principalId, name),
            (a) => a.id,
          ),
        );
        return finish({ item: item(saved.name) });
      } catch (error) {
        return { error };
      }
    },
  );
  const failed = settled.find((r) => r.error !== undefined);
  if (failed) throw failed.error;
  const assignments = settled.flatMap((r) => (r.item ? [r.item] : []));
  if (conflicts.length > 0) {
    throw new AzureOperationError(
      "role_assignment_conflict",
      `The vendor already holds ${conflicts.join("; ")} with a different condition, so the portal could not limit it to the audit storage accounts. Remove that assignment in the Azure portal and apply again.`,
    );
  }
  // Only once every narrow assignment exists: removing first would leave the vendor without access in between.
  const removed: string[] = [];
  for (const x of stale) {
    await ctx.write({ key: keyOf(x), kind: "delete", target: `${x.roleName} at ${x.scope}` }, () =>
      deleteRoleAssignment(ctx.arm, x.scope, x.name),
    );
    removed.push(`${x.scope}|${x.name}`);
  }
  return { assignments, ...(removed.length > 0 ? { removed } : {}), clusters: live.clusters ?? clusterAccessFromConfig(ctx.config) };
}

/**
 * PUT under the deterministic name. RoleAssignmentExists (same principal, role and scope under another name, e.g. a read
 * that missed it) is success once that assignment is confirmed to carry exactly the wanted condition.
 */
async function assign(ctx: StepContext, d: DesiredAssignment, principalId: string, name: string): Promise<RoleAssignmentInfo> {
  try {
    return await createRoleAssignment(ctx.arm, {
      scope: d.scope,
      roleDefinitionId: d.roleGuid,
      principalId,
      name,
      ...(d.condition ? { condition: d.condition } : {}),
    });
  } catch (error) {
    if (!(error instanceof AzureOperationError) || error.code !== "role_assignment_exists") throw error;
    const atScope = (await listAt(ctx, [d.scope], principalId))[d.scope] ?? [];
    const decision = decide(d, principalId, atScope);
    if (decision.kind === "no-change" || decision.kind === "adopt") return decision.existing;
    throw new AzureOperationError(
      "role_assignment_conflict",
      `Azure reports that the vendor already holds ${d.roleName} at ${d.scope}, but not with the wanted condition. Remove that assignment in the Azure portal and apply again.`,
      error.azureCode,
      error.status,
    );
  }
}

async function verify(ctx: StepContext, out: RoleAssignmentsOutput): Promise<VerifyResult> {
  const principalId = await principalOf(ctx);
  if (!principalId) return { ok: false, reason: "The vendor's service principal was not found." };
  const scopes = [...new Set(out.assignments.map((a) => a.scope))];
  const live = await listAt(ctx, scopes, principalId);
  const checks: string[] = [];
  const roles = roleIdsOf(ctx);
  const wanted = desiredAssignments(ctx.config, roles, ctx.outputs.storage, out.clusters ?? clusterAccessFromConfig(ctx.config));
  for (const d of wanted) {
    const made = out.assignments.some(
      (a) => same(a.scope, d.scope) && same(roleGuid(a.roleDefinitionId), d.roleGuid) && sameCondition(a.condition, d.condition),
    );
    if (!made) return { ok: false, reason: `The ${d.roleName} assignment at ${d.scope} was not made.` };
  }
  for (const a of out.assignments) {
    const found = (live[a.scope] ?? []).find((x) => same(x.name, a.name));
    if (!found) return { ok: false, reason: `The ${a.roleName} assignment at ${a.scope} is missing.` };
    if (!same(found.principalId, principalId) || !same(roleGuid(found.roleDefinitionId), roleGuid(a.roleDefinitionId))) {
      return { ok: false, reason: `The assignment ${a.name} at ${a.scope} is for another principal or role.` };
    }
    if (!sameCondition(found.condition, a.condition))
      return { ok: false, reason: `The ${a.roleName} assignment at ${a.scope} has a different condition.` };
    if (a.condition && found.conditionVersion !== CONDITION_VERSION)
      return {
        ok: false,
        reason: `The ${a.roleName} assignment at ${a.scope} has condition version ${found.conditionVersion ?? "(none)"}.`,
      };
    checks.push(`${a.roleName} at ${a.scope}${a.condition ? " (limited to this audit storage account)" : ""}`);
  }
  const removedScopes = [...new Set((out.removed ?? []).map((r) => r.split("|")[0] ?? ""))].filter((x) => !live[x]);
  const afterRemoval = { ...live, ...(removedScopes.length > 0 ? await listAt(ctx, removedScopes, principalId) : {}) };
  for (const r of out.removed ?? []) {
    const [scope = "", name = ""] = r.split("|");
    if ((afterRemoval[scope] ?? []).some((x) => same(x.name, name)))
      return { ok: false, reason: `The portal's earlier assignment ${name} at ${scope} is still there.` };
    checks.push(`Earlier assignment at ${scope} removed`);
  }
  return { ok: true, checks };
}

/** What the role-assignments step writes, for the change-approval exports. */
export interface RoleAssignmentsDescription {
  assignments: DescribedResource<{
    subscriptionId: string;
    roleGuid: string;
    roleDefinitionId: string;
    condition: string | null;
    conditionVersion: string | null;
  }>[];
  /** The portal's earlier, broader assignments the plan removes once the narrow ones exist (narrowing). */
  removals: DescribedResource<{ subscriptionId: string; roleGuid: string }>[];
  /** UUIDv5 namespace of role assignment names: name = uuidv5(namespace, lower(scope|principalObjectId|roleGuid)). */
  assignmentNamespace: string;
}

const ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments";
const subscriptionOfId = (id: string) => /^\/subscriptions\/([^/]+)/i.exec(id)?.[1] ?? "";

/** Each cluster's access as the stored plan decided it (from the cluster read then), else as the config recorded it. */
function plannedClusterAccess(config: RunConfig, roles: PortalRoleIds, changes: readonly PlannedChange[]): ClusterAccess[] {
  const planned = new Set(changes.filter((c) => c.action !== "remove").map((c) => c.key.toLowerCase()));
  return clusterAccessFromConfig(config).map((a) => {
    if (planned.has(keyOf({ roleGuid: roles.aks, scope: a.clusterId }).toLowerCase())) return { ...a, entraIntegration: true };
    if (planned.has(keyOf({ roleGuid: roles.metadata, scope: a.clusterId }).toLowerCase())) return { ...a, entraIntegration: false };
    return a;
  });
}

/** The vendor's assignments for a run (each cluster's role as the stored plan read it) and the earlier ones the plan removes. */
export function describeRoleAssignments({ tenantId, config, planned }: DescribeInput): RoleAssignmentsDescription {
  const roles = portalRoleIds(tenantId);
  return {
    assignments: desiredAssignments(config, roles, undefined, plannedClusterAccess(config, roles, planned)).map((d) => ({
      key: keyOf(d),
      resourceType: ASSIGNMENT_TYPE,
      name: d.roleName,
      scope: d.scope,
      properties: {
        subscriptionId: subscriptionOfId(d.scope),
        roleGuid: d.roleGuid,
        roleDefinitionId: fullRoleDefinitionId(d.scope, d.roleGuid),
        condition: d.condition ?? null,
        conditionVersion: d.condition ? CONDITION_VERSION : null,
      },
    })),
    removals: planned.flatMap((c) => {
      const k = roleAssignmentKeys.parse(c.key);
      if (c.action !== "remove" || !k || !/^[0-9a-f-]{36}$/i.test(k.roleGuid) || !k.scope) return [];
      const properties = { subscriptionId: subscriptionOfId(k.scope), roleGuid: k.roleGuid };
      return [{ key: c.key, resourceType: ASSIGNMENT_TYPE, name: c.resource.replace(/ at .*$/, ""), scope: k.scope, properties }];
    }),
    assignmentNamespace: PROJECT_NAMESPACE,
  };
}

/** Removes the vendor's role assignments the run created (one the vendor held before, under another name, stays). */
export const roleAssignmentsRemoval = standardRemoval({
  categories: ["role-assignment"],
  categoryOf: (key) => (roleAssignmentKeys.parse(key) ? "role-assignment" : null),
  describe: (w) => ({ resourceType: "Role assignment", resource: roleAssignmentKeys.parse(w.key)?.scope ?? "" }),
  describeRemoval: (w) => ({ resourceType: "Role assignment", resource: w.target }),
  keptType: () => "Change",
  why: { "role-assignment": "The vendor's access granted by this run." },
  async resolve(w, _category, ctx) {
    const k = roleAssignmentKeys.parse(w.key);
    if (!k || !/^[0-9a-f-]{36}$/i.test(k.roleGuid) || !k.scope) return { state: "absent" };
    const { roleGuid: guid, scope } = k;
    let id = w.resourceId;
    if (!id) {
      const principal = await vendorPrincipalId(ctx);
      if (!principal) return { state: "absent" };
      id = `${scope.replace(/\/+$/, "")}/providers/Microsoft.Authorization/roleAssignments/${roleAssignmentName(scope, principal, guid)}`;
    }
    const assignmentId = id;
    const found = await getRoleAssignmentById(ctx.arm, assignmentId);
    if (!found) return { state: "absent" };
    // Azure's RoleAssignmentExists path logs the assignment it found under another name: that one predates the run.
    if (!same(found.name, roleAssignmentName(scope, found.principalId, guid))) {
      return { state: "foreign", reason: "The vendor already held this role here under another assignment name; it predates this run." };
    }
    return {
      state: "present",
      live: {
        remove: () => deleteRoleAssignment(ctx.arm, found.scope || scope, found.name),
        exists: async () => (await getRoleAssignmentById(ctx.arm, assignmentId)) !== null,
      },
    };
  },
});

/** Role assignments for the vendor's service principal, as narrow as its work allows, with deterministic names. */
export const roleAssignmentsStep: StepModule<RoleAssignmentsLive, RoleAssignmentsOutput> = {
  id: "role-assignments",
  removal: roleAssignmentsRemoval,
  read,
  plan,
  apply,
  verify,
};
