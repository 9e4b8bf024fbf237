// "Re-check coverage" of a completed run: clusters in its subscriptions whose kube-audit log doesn't reach the run's
// account for their region, and extending the run to them (new config → stored plan → the usual confirm).
import "server-only";
import { createHash } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { failure, type ActionResult } from "@/lib/action-result";
import { checkStorageAccountName } from "@/lib/azure/check-storage-account-name";
import { getStorageAccount } from "@/lib/azure/get-storage-account";
import { listDiagnosticSettings, type DiagnosticSetting } from "@/lib/azure/list-diagnostic-settings";
import { listManagedClusters, type ManagedCluster } from "@/lib/azure/list-managed-clusters";
import { listPrincipalAssignmentsInSubscription } from "@/lib/azure/list-principal-assignments";
import { KUBE_AUDIT_CATEGORY } from "@/lib/azure/put-diagnostic-setting";
import { mapBounded } from "@/lib/concurrency";
import { recordAuditEvent } from "@/lib/db/audit";
import type { JsonValue } from "@/lib/db/json";
import type { SessionWithUser } from "@/lib/db/sessions";
import { maskText } from "@/lib/presenter";
import { runConfigSchema, type ClusterChoice, type RunConfig, type StorageChoice } from "@/lib/steps/config";
import { DIAGNOSTIC_SETTING_NAME, MAX_DIAGNOSTIC_SETTINGS } from "@/lib/steps/diagnostic-settings";
import { portalRoleIds, staleAssignments } from "@/lib/steps/role-assignments";
import { storageAccountIdOf } from "@/lib/steps/storage";
import { suggestStorageAccountName } from "@/lib/steps/storage-names";
import { DEFAULT_RESOURCE_GROUP } from "./new-run";
import { extendCompletedRun, getRunView } from "./run-control";
import { runIdSchema } from "./schemas";
import { readFailure, sessionTokens, trackedCredential, type TokenProvider } from "@/lib/auth/tokens";

/** Why a cluster's kube-audit log doesn't reach the run's account for its region. */
export type CoverageGapReason = "new-cluster" | "setting-missing" | "wrong-destination" | "kube-audit-off" | "settings-limit";

/** One uncovered cluster. `key` is opaque (a hash of the cluster id): the browser selects by it and never needs an id. */
export interface CoverageGap {
  key: string;
  clusterId: string;
  clusterName: string;
  subscriptionId: string;
  subscriptionName: string;
  resourceGroup: string;
  location: string;
  reason: CoverageGapReason;
  message: string;
  /** Already in the run's configuration: any extension repairs it. New clusters are added only when selected. */
  inRun: boolean;
  /** The run has no audit account in this cluster's region yet. */
  needsNewAccount: boolean;
  /** Microsoft Entra integration as read now: recorded when the cluster is added (the AKS role or metadata only). */
  entraIntegration?: boolean;
}

/** A storage account the extension would add for a region the run doesn't cover yet. */
export interface ProposedAccount {
  region: string;
  subscriptionId: string;
  subscriptionName: string;
  resourceGroup: string;
  accountName: string;
  /** available: free, created by the run; yours: exists in that group and region, adopted. */
  status: "available" | "yours";
}

/** What a re-check found. */
export interface CoverageReport {
  checkedAt: string;
  clustersChecked: number;
  coveredCount: number;
  gaps: CoverageGap[];
  proposedAccounts: ProposedAccount[];
  /** Regions that need an account for which no usable name was found (their clusters can't be added). */
  accountProblems: { region: string; message: string }[];
  /** Clusters of the run that no longer exist; an extension drops them from the configuration. */
  removedClusters: { clusterId: string; clusterName: string }[];
  /** The portal's own subscription-wide assignments of an earlier version (AKS role, blob reader): an extension narrows them. */
  narrowing: { roleName: string; subscriptionName: string }[];
}

/** The report as the browser gets it: no ARM or subscription ids at all, texts masked in presenter mode. */
export interface CoverageReportView {
  checkedAt: string;
  clustersChecked: number;
  coveredCount: number;
  gaps: Omit<CoverageGap, "clusterId" | "subscriptionId">[];
  proposedAccounts: Omit<ProposedAccount, "subscriptionId">[];
  accountProblems: { region: string; message: string }[];
  removedClusters: { clusterName: string }[];
  narrowing: { roleName: string; subscriptionName: string }[];
}

const NOT_YOURS = "This onboarding run doesn't exist or belongs to another tenant.";
const NOT_COMPLETED = "Coverage can be re-checked once the run has completed.";
const READ_CONCURRENCY = 4;
const NAME_ATTEMPTS = 5;

const lower = (s: string) => s.toLowerCase();
const accountNameOf = (id: string) => id.split("/").pop() ?? id;
const subscriptionOf = (id: string) => id.split("/")[2] ?? "";

/** Stable, opaque key of a cluster for the browser. */
export function gapKey(clusterId: string): string {
  return createHash("sha256")
    .update(`coverage-gap|${lower(clusterId)}`)
    .digest("hex")
    .slice(0, 24);
}

/** The run's audit account id for a region, or null when it has none there. */
export function regionAccountId(config: RunConfig, region: string): string | null {
  const choice = config.storage.find((s) => lower(s.region) === lower(region));
  return choice ? storageAccountIdOf(choice) : null;
}

function sendsAuditTo(setting: DiagnosticSetting, accountId: string): boolean {
  return (
    setting.storageAccountId !== null &&
    lower(setting.storageAccountId) === lower(accountId) &&
    setting.enabledCategories.includes(KUBE_AUDIT_CATEGORY)
  );
}

/** One cluster's gap, or null when a setting sends kube-audit to its region's account of this run. Pure. */
export function classifyCluster(
  config: RunConfig,
  cluster: Pick<ManagedCluster, "id" | "location" | "name">,
  settings: readonly DiagnosticSetting[],
): { reason: CoverageGapReason; message: string; inRun: boolean; needsNewAccount: boolean } | null {
  const inRun = config.clusters.some((c) => lower(c.id) === lower(cluster.id));
  const accountId = regionAccountId(config, cluster.location);
  if (accountId && settings.some((s) => sendsAuditTo(s, accountId))) return null;
  // Left out of the run, or its exception: Azure takes no setting until the admin frees a slot (counted, never read from an error).
  if (settings.length >= MAX_DIAGNOSTIC_SETTINGS && !settings.some((s) => s.name === DIAGNOSTIC_SETTING_NAME)) {
    return {
      reason: "settings-limit",
      inRun,
      needsNewAccount: !inRun && accountId === null,
      message: `It already has ${MAX_DIAGNOSTIC_SETTINGS} diagnostic settings, Azure's maximum: remove one it no longer needs, then re-check coverage to onboard it.`,
    };
  }
  if (!inRun) {
    return {
      reason: "new-cluster",
      inRun,
      needsNewAccount: accountId === null,
      message: accountId
        ? `New cluster, not part of this run: its kube-audit log doesn't reach ${accountNameOf(accountId)}.`
        : `New cluster in ${cluster.location}, where this run has no audit storage account yet.`,
    };
  }
  // In the run, so its region has an account (the config guarantees one per cluster region).
  const target = accountNameOf(accountId ?? "");
  const ours = settings.find((s) => s.name === DIAGNOSTIC_SETTING_NAME);
  if (!ours) {
    return {
      reason: "setting-missing",
      inRun,
      needsNewAccount: false,
      message: `The diagnostic setting '${DIAGNOSTIC_SETTING_NAME}' is gone: nothing sends kube-audit to ${target}.`,
    };
  }
  if (!ours.storageAccountId || lower(ours.storageAccountId) !== lower(accountId ?? "")) {
    return {
      reason: "wrong-destination",
      inRun,
      needsNewAccount: false,
      message: `The diagnostic setting '${DIAGNOSTIC_SETTING_NAME}' sends to ${ours.storageAccountId ? accountNameOf(ours.storageAccountId) : "no storage account"} instead of ${target}.`,
    };
  }
  return {
    reason: "kube-audit-off",
    inRun,
    needsNewAccount: false,
    message: `The diagnostic setting '${DIAGNOSTIC_SETTING_NAME}' no longer sends kube-audit to ${target}.`,
  };
}

/** Live reads: the subscriptions' clusters and each cluster's diagnostic settings. */
async function readEstate(
  arm: TokenCredential,
  config: RunConfig,
): Promise<{ cluster: ManagedCluster; subscriptionId: string; settings: DiagnosticSetting[] }[]> {
  const clusters = (
    await mapBounded(config.subscriptions, READ_CONCURRENCY, async (s) =>
      (await listManagedClusters(arm, s.id)).map((cluster) => ({ cluster, subscriptionId: s.id })),
    )
  ).flat();
  return mapBounded(clusters, READ_CONCURRENCY, async (c) => ({ ...c, settings: await listDiagnosticSettings(arm, c.cluster.id) }));
}

/** A free (or already ours) account name for a region: the new-run form's suggestion, then its next attempts. */
async function proposeAccount(
  arm: TokenCredential,
  config: RunConfig,
  region: string,
  subscriptionId: string,
): Promise<ProposedAccount | { problem: string }> {
  const resourceGroup = config.storage[0]?.resourceGroup ?? DEFAULT_RESOURCE_GROUP;
  const subscriptionName = config.subscriptions.find((s) => s.id === subscriptionId)?.displayName ?? subscriptionId;
  const taken = new Set(config.storage.map((s) => s.accountName));
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const accountName = suggestStorageAccountName(config.tenantId, region, attempt);
    if (taken.has(accountName)) continue;
    // The customer's own account (a run extended earlier, or one they made) also answers "taken": look in the group first.
    const existing = await getStorageAccount(arm, subscriptionId, resourceGroup, accountName);
    if (existing) {
      if (lower(existing.location) === lower(region))
        return { region, subscriptionId, subscriptionName, resourceGroup, accountName, status: "yours" };
      continue;
    }
    const check = await checkStorageAccountName(arm, subscriptionId, accountName);
    if (check.available) return { region, subscriptionId, subscriptionName, resourceGroup, accountName, status: "available" };
  }
  return {
    problem: `No free storage account name was found for ${region}. Start a new onboarding for clusters in ${region} and choose a name there.`,
  };
}

/** The vendor principal's subscription-wide assignments the portal made before it assigned per cluster and per account. */
async function wideAssignments(arm: TokenCredential, config: RunConfig, principalId: string): Promise<CoverageReport["narrowing"]> {
  const roles = portalRoleIds(config.tenantId);
  const lists = await mapBounded(config.subscriptions, READ_CONCURRENCY, async (s) => {
    const scope = `/subscriptions/${lower(s.id)}`;
    return [
      scope,
      (await listPrincipalAssignmentsInSubscription(arm, s.id, principalId)).filter((a) => lower(a.scope.replace(/\/+$/, "")) === scope),
    ] as const;
  });
  return staleAssignments(config, roles, principalId, [], Object.fromEntries(lists)).map((x) => ({
    roleName: x.roleName,
    subscriptionName: config.subscriptions.find((s) => lower(s.id) === subscriptionOf(x.scope))?.displayName ?? x.scope,
  }));
}

/** Re-read Azure for a run's configuration (and, given the vendor's principal, its access to narrow). Pure of the database; throws Azure errors. */
export async function computeCoverage(
  arm: TokenCredential,
  config: RunConfig,
  vendorPrincipalId: string | null = null,
): Promise<CoverageReport> {
  const estate = await readEstate(arm, config);
  const gaps: CoverageGap[] = [];
  for (const { cluster, subscriptionId, settings } of estate) {
    const gap = classifyCluster(config, cluster, settings);
    if (!gap) continue;
    gaps.push({
      key: gapKey(cluster.id),
      clusterId: cluster.id,
      clusterName: cluster.name,
      subscriptionId,
      subscriptionName: config.subscriptions.find((s) => s.id === subscriptionId)?.displayName ?? subscriptionId,
      resourceGroup: cluster.resourceGroup,
      location: lower(cluster.location),
      entraIntegration: cluster.entraIntegration,
      ...gap,
    });
  }
  gaps.sort(
    (a, b) => Number(b.inRun) - Number(a.inRun) || a.location.localeCompare(b.location) || a.clusterName.localeCompare(b.clusterName),
  );
  const proposedAccounts: ProposedAccount[] = [];
  const accountProblems: CoverageReport["accountProblems"] = [];
  for (const region of [...new Set(gaps.filter((g) => g.needsNewAccount).map((g) => g.location))].sort()) {
    // Like the new-run form: the region's account lives in the subscription with most (new) clusters there; ties by run order.
    const inRegion = gaps.filter((g) => g.location === region);
    const subscriptionId =
      [...config.subscriptions].sort(
        (a, b) => inRegion.filter((g) => g.subscriptionId === b.id).length - inRegion.filter((g) => g.subscriptionId === a.id).length,
      )[0]?.id ?? subscriptionOf(inRegion[0]?.clusterId ?? "");
    const proposal = await proposeAccount(arm, config, region, subscriptionId);
    if ("problem" in proposal) accountProblems.push({ region, message: proposal.problem });
    else proposedAccounts.push(proposal);
  }
  const live = new Set(estate.map((e) => lower(e.cluster.id)));
  return {
    checkedAt: new Date().toISOString(),
    clustersChecked: estate.length,
    coveredCount: estate.length - gaps.length,
    gaps,
    proposedAccounts,
    accountProblems,
    removedClusters: config.clusters.filter((c) => !live.has(lower(c.id))).map((c) => ({ clusterId: c.id, clusterName: c.name })),
    narrowing: vendorPrincipalId ? await wideAssignments(arm, config, vendorPrincipalId) : [],
  };
}

/** The run's configuration extended to the selected new clusters (and every in-run gap, which a re-run repairs). */
export function extendedConfig(
  config: RunConfig,
  report: CoverageReport,
  selectedKeys: readonly string[],
): ActionResult<{ config: RunConfig; added: CoverageGap[]; repaired: CoverageGap[]; accounts: ProposedAccount[] }> {
  const selected = new Set(selectedKeys);
  const known = new Set(report.gaps.map((g) => g.key));
  if ([...selected].some((k) => !known.has(k))) {
    return failure("Coverage changed since you checked (another admin may have extended this run). Check again.", { code: "stale" });
  }
  const added = report.gaps.filter((g) => !g.inRun && selected.has(g.key));
  // A run's own cluster still at the settings limit can't be repaired yet: extending would only meet the limit again.
  const repaired = report.gaps.filter((g) => g.inRun && g.reason !== "settings-limit");
  // Narrowing alone is reason enough: the re-planned role assignments remove the wide ones.
  if (added.length === 0 && repaired.length === 0 && report.narrowing.length === 0)
    return failure("Select at least one cluster to add to this run.", {
      code: "invalid",
      fieldErrors: { clusters: ["select at least one"] },
    });
  const blocked = added.filter((g) => g.needsNewAccount && !report.proposedAccounts.some((a) => a.region === g.location));
  if (blocked.length > 0) {
    return failure(
      report.accountProblems.find((p) => p.region === blocked[0]?.location)?.message ??
        "No storage account is available for a selected cluster's region.",
      { code: "no_account" },
    );
  }
  const removed = new Set(report.removedClusters.map((c) => lower(c.clusterId)));
  const clusters: ClusterChoice[] = [
    ...config.clusters.filter((c) => !removed.has(lower(c.id))),
    ...added.map((g) => ({
      id: g.clusterId,
      name: g.clusterName,
      subscriptionId: g.subscriptionId,
      resourceGroup: g.resourceGroup,
      location: g.location,
      ...(g.entraIntegration === undefined ? {} : { entraIntegration: g.entraIntegration }),
    })),
  ];
  const regions = new Set(added.map((g) => g.location));
  const accounts = report.proposedAccounts.filter((a) => regions.has(a.region));
  const storage: StorageChoice[] = [
    ...config.storage,
    ...accounts.map((a) => ({
      region: a.region,
      subscriptionId: a.subscriptionId,
      resourceGroup: a.resourceGroup,
      createResourceGroup: true,
      accountName: a.accountName,
      adopt: a.status === "yours",
    })),
  ];
  const parsed = runConfigSchema.safeParse({ ...config, clusters, storage });
  if (!parsed.success) return failure(parsed.error.issues[0]?.message ?? "The extended configuration is not valid.", { code: "invalid" });
  return { ok: true, data: { config: parsed.data, added, repaired, accounts } };
}

/** The report for the browser: ids dropped, GUIDs in texts masked in presenter mode. */
export function coverageReportView(report: CoverageReport, presenter: boolean): CoverageReportView {
  const text = (s: string) => (presenter ? maskText(s) : s);
  return {
    checkedAt: report.checkedAt,
    clustersChecked: report.clustersChecked,
    coveredCount: report.coveredCount,
    gaps: report.gaps.map(({ clusterId: _c, subscriptionId: _s, ...g }) => ({
      ...g,
      clusterName: text(g.clusterName),
      subscriptionName: text(g.subscriptionName),
      message: text(g.message),
    })),
    proposedAccounts: report.proposedAccounts.map(({ subscriptionId: _s, ...a }) => ({ ...a, subscriptionName: text(a.subscriptionName) })),
    accountProblems: report.accountProblems.map((p) => ({ region: p.region, message: text(p.message) })),
    removedClusters: report.removedClusters.map((c) => ({ clusterName: text(c.clusterName) })),
    narrowing: report.narrowing.map((n) => ({ roleName: n.roleName, subscriptionName: text(n.subscriptionName) })),
  };
}

const principalOutputSchema = z.object({ servicePrincipalId: z.string().min(1) });

async function completedRunConfig(
  session: SessionWithUser,
  runId: string,
): Promise<ActionResult<{ config: RunConfig; stored: JsonValue; principalId: string | null }>> {
  const view = await getRunView(session, runId);
  if (!view) return failure(NOT_YOURS, { code: "forbidden" });
  if (view.run.status !== "completed") return failure(NOT_COMPLETED, { code: "conflict" });
  const app = principalOutputSchema.safeParse(view.run.steps.find((s) => s.stepId === "app-registration")?.outputs);
  return {
    ok: true,
    data: { config: view.config, stored: view.run.config, principalId: app.success ? app.data.servicePrincipalId : null },
  };
}

/** Re-check a completed run's coverage as the signed-in admin (reads only; audited). Safe to repeat and to run by two admins at once. */
export async function recheckCoverage(
  session: SessionWithUser,
  runId: string,
  tokens: TokenProvider = sessionTokens(session),
): Promise<ActionResult<CoverageReport>> {
  const run = await completedRunConfig(session, runId);
  if (!run.ok) return run;
  const tracked = trackedCredential(tokens, "arm");
  let report: CoverageReport;
  try {
    report = await computeCoverage(tracked.credential, run.data.config, run.data.principalId);
  } catch (error) {
    return readFailure(error, tracked);
  }
  await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: "run.coverage_checked",
    target: runId,
    runId,
    outcome: "success",
    detail: {
      clusters: report.clustersChecked,
      covered: report.coveredCount,
      gaps: report.gaps.map((g) => ({ cluster: g.clusterName, reason: g.reason })),
      proposedAccounts: report.proposedAccounts.map((a) => a.accountName),
      ...(report.narrowing.length > 0 ? { narrowing: report.narrowing.map((n) => `${n.roleName} on ${n.subscriptionName}`) } : {}),
    },
  });
  return { ok: true, data: report };
}

/**
 * Extend a completed run to the selected new clusters (plus repairs of its own clusters): re-checks Azure now (never
 * trusting the browser's list), builds the wider configuration and hands it to run-control, which reopens the run
 * (compare-and-set: one of two admins wins) and stores its plan for the usual review and confirm.
 */
export async function extendCoverage(
  session: SessionWithUser,
  runId: string,
  selectedKeys: readonly string[],
  tokens: TokenProvider = sessionTokens(session),
): Promise<ActionResult<{ runId: string }>> {
  const run = await completedRunConfig(session, runId);
  if (!run.ok)
    return run.code === "conflict"
      ? failure("This run is already being extended or isn't complete. Reload it.", { code: "conflict" })
      : run;
  const tracked = trackedCredential(tokens, "arm");
  let report: CoverageReport;
  try {
    report = await computeCoverage(tracked.credential, run.data.config, run.data.principalId);
  } catch (error) {
    return readFailure(error, tracked);
  }
  const extension = extendedConfig(run.data.config, report, selectedKeys);
  if (!extension.ok) return extension;
  const { added, repaired, accounts } = extension.data;
  return extendCompletedRun(
    session,
    runId,
    run.data.stored,
    extension.data.config,
    {
      addedClusters: added.map((g) => g.clusterName),
      repairedClusters: repaired.map((g) => ({ cluster: g.clusterName, reason: g.reason })),
      newStorageAccounts: accounts.map((a) => a.accountName),
      droppedClusters: report.removedClusters.map((c) => c.clusterName),
    },
    tokens,
  );
}

/** Input of the extend action: the run and the opaque keys of the new clusters the admin selected. */
export const extendCoverageSchema = z.object({
  runId: runIdSchema,
  clusterKeys: z.array(z.string().regex(/^[0-9a-f]{24}$/, "is not a cluster from the re-check")).max(1000),
});

/** recheckCoverage as the browser may see it (presenter mode masks texts). */
export async function recheckCoverageView(
  session: SessionWithUser,
  runId: string,
  options: { presenter: boolean },
): Promise<ActionResult<CoverageReportView>> {
  const result = await recheckCoverage(session, runId);
  return result.ok ? { ok: true, data: coverageReportView(result.data, options.presenter) } : result;
}
