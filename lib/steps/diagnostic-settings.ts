// Step 2: send each selected cluster's kube-audit log to the storage account of its region.
import "server-only";
import { mapPerGroupSettled } from "@/lib/concurrency";
import { AzureOperationError } from "@/lib/azure/errors";
import { listDiagnosticSettings, type DiagnosticSetting } from "@/lib/azure/list-diagnostic-settings";
import { KUBE_AUDIT_CATEGORY, kubeAuditSettingBody, putDiagnosticSetting } from "@/lib/azure/put-diagnostic-setting";
import { deleteDiagnosticSetting } from "@/lib/azure/delete-diagnostic-setting";
import type { ClusterChoice, RunConfig } from "./config";
import { splitKey } from "./keys";
import { absentOn404, standardRemoval } from "./removal";
import { storageAccountIdOf, type StorageOutput } from "./storage";
import type { AttentionItem, DescribedResource, DescribeInput, PlannedChange, StepContext, StepModule, VerifyResult } from "./types";

/** Our setting's name on every cluster: fixed, so a re-run updates it instead of adding a second one. */
export const DIAGNOSTIC_SETTING_NAME = "aks-onboarding-kube-audit";
/** Azure Monitor's limit of diagnostic settings per resource. */
export const MAX_DIAGNOSTIC_SETTINGS = 5;

/** One cluster's current diagnostic settings and the account its kube-audit log must reach. */
export interface ClusterDiagnosticsLive {
  cluster: ClusterChoice;
  storageAccountId: string;
  settings: DiagnosticSetting[];
  /** Azure answered 404 for the cluster: deleted (or moved) since it was chosen. */
  gone?: true;
}

/** Live state read by the diagnostic-settings step. */
export interface DiagnosticSettingsLive {
  clusters: ClusterDiagnosticsLive[];
}

/** A cluster whose kube-audit log reaches its region's account. */
export interface ClusterSettingOutput {
  clusterId: string;
  clusterName: string;
  /** The setting's name: ours, or the customer's when adopted. */
  name: string;
  storageAccountId: string;
  adopted: boolean;
}

/** Why a cluster can't take our setting, for a reason no retry fixes. */
export type BlockedCode = "diagnostic_settings_limit" | "policy_denied" | "cluster_gone";

/** A cluster the step could not configure, with why and what the admin must do; the other clusters go on. */
export interface BlockedCluster {
  clusterId: string;
  clusterName: string;
  code: BlockedCode;
  reason: string;
  action: string;
}

/** The diagnostic-settings step's result: `blocked` clusters are the step's exceptions (done with exceptions). */
export interface DiagnosticSettingsOutput {
  settings: ClusterSettingOutput[];
  blocked: BlockedCluster[];
}

/**
 * Thrown by apply when no cluster at all could take our setting: there is nothing to onboard. A permanent failure;
 * `output` holds what was blocked and why (the engine keeps it for the run page).
 */
export class NoClusterConfiguredError extends AzureOperationError {
  constructor(readonly output: DiagnosticSettingsOutput) {
    const every = (code: BlockedCode) => output.blocked.every((b) => b.code === code);
    super(
      every("diagnostic_settings_limit") ? "diagnostic_settings_limit" : every("cluster_gone") ? "not_found" : "conflict",
      `No selected cluster can send its kube-audit log, so there is nothing to onboard. ${output.blocked.map((b) => `${b.clusterName}: ${b.reason} ${b.action}`).join(" ")}`,
    );
    this.name = "NoClusterConfiguredError";
  }
}

const STEP_ID = "diagnostic-settings" as const;
// ARM grants each principal 200 writes per subscription at once (then 10/s): 32 in flight per subscription, with role
// assignments' 32 beside them, stay far inside it, and send up to 32 clusters of a subscription in one round.
const PER_SUBSCRIPTION_CONCURRENCY = 32;

const sameId = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();
const accountNameOf = (id: string) => id.split("/").pop() ?? id;
const SETTING_PATH = "/providers/Microsoft.Insights/diagnosticSettings/";

/** The diagnostic-settings step's operation-log key and its parser (the strings are persisted: they never change). */
export const diagnosticSettingsKeys = {
  setting: (clusterId: string) => `diagnostic-settings.setting:${clusterId}${SETTING_PATH}${DIAGNOSTIC_SETTING_NAME}`,
  parse(key: string): { kind: "setting"; clusterId: string; name: string } | null {
    const k = splitKey(key);
    if (k?.head !== "diagnostic-settings.setting") return null;
    const [clusterId = k.value, name = ""] = k.value.split(SETTING_PATH);
    return { kind: "setting", clusterId, name };
  },
};
const settingKey = diagnosticSettingsKeys.setting;

/** The admin's to-do once the cause is gone: the coverage check on the run page onboards the cluster. */
const EXTEND_LATER = "then Re-check coverage on the run page and Extend the run to onboard it";

/** A cluster at Azure's 5-settings limit (counted from the list, never read from an error text). */
export function limitBlock(cluster: Pick<ClusterChoice, "id" | "name">): BlockedCluster {
  return {
    clusterId: cluster.id,
    clusterName: cluster.name,
    code: "diagnostic_settings_limit",
    reason: `It already has ${MAX_DIAGNOSTIC_SETTINGS} diagnostic settings, Azure's maximum, so its kube-audit log can't be sent to the audit account.`,
    action: `Remove a diagnostic setting it no longer needs (Azure portal: the cluster, Diagnostic settings), ${EXTEND_LATER}.`,
  };
}

function policyBlock(cluster: ClusterChoice, error: AzureOperationError): BlockedCluster {
  return {
    clusterId: cluster.id,
    clusterName: cluster.name,
    code: "policy_denied",
    reason: `Azure Policy refused its diagnostic setting: ${error.message}`,
    action: `Ask the owner of that policy assignment for an exemption for this cluster, ${EXTEND_LATER}.`,
  };
}

function goneBlock(cluster: ClusterChoice): BlockedCluster {
  return {
    clusterId: cluster.id,
    clusterName: cluster.name,
    code: "cluster_gone",
    reason: "Azure no longer finds this cluster: it was deleted, or moved, after the plan was made.",
    action: "Nothing to do if it was deleted on purpose; Re-check coverage on the run page shows what is left to onboard.",
  };
}

// 403 RequestDisallowedByPolicy: a deny policy refuses the setting on this cluster (lib/azure/errors names the policy).
function isPolicyDenial(error: AzureOperationError): boolean {
  return error.code === "policy_denied" || error.azureCode === "RequestDisallowedByPolicy";
}

// 404 on the cluster itself (ResourceNotFound, ParentResourceNotFound for its child settings, or its group gone).
const GONE_AZURE_CODES = ["ResourceNotFound", "ParentResourceNotFound", "ResourceGroupNotFound"];
function isClusterGone(error: AzureOperationError): boolean {
  return error.status === 404 && (error.azureCode === undefined || GONE_AZURE_CODES.includes(error.azureCode));
}

function isStorageOutput(value: unknown): value is StorageOutput {
  const accounts = (value as { accounts?: unknown } | null)?.accounts;
  return (
    Array.isArray(accounts) &&
    accounts.every((a) => typeof (a as { id?: unknown }).id === "string" && typeof (a as { region?: unknown }).region === "string")
  );
}

/** The account for a cluster's region: the storage step's output when present, else the id derived from the config's choice. */
export function storageAccountIdForCluster(config: RunConfig, outputs: StepContext["outputs"], cluster: ClusterChoice): string {
  const region = cluster.location.toLowerCase();
  const storage = outputs.storage;
  if (isStorageOutput(storage)) {
    const fromOutput = storage.accounts.find((a) => a.region.toLowerCase() === region);
    if (fromOutput) return fromOutput.id;
  }
  const choice = config.storage.find((s) => s.region.toLowerCase() === region);
  if (!choice)
    throw new AzureOperationError(
      "invalid_request",
      `No storage account is chosen for region ${cluster.location}, where cluster ${cluster.name} runs.`,
    );
  return storageAccountIdOf(choice);
}

type ClusterWork =
  | { kind: "adopt"; setting: DiagnosticSetting }
  | { kind: "no-change" }
  | { kind: "update"; details: string[] }
  | { kind: "create" }
  | { kind: "blocked"; block: BlockedCluster };

/** What one cluster needs, from live state alone: shared by plan, apply and the unit tests. */
function clusterWork(c: ClusterDiagnosticsLive): ClusterWork {
  if (c.gone) return { kind: "blocked", block: goneBlock(c.cluster) };
  const sendsAudit = (s: DiagnosticSetting) =>
    sameId(s.storageAccountId, c.storageAccountId) && s.enabledCategories.includes(KUBE_AUDIT_CATEGORY);
  const ours = c.settings.find((s) => s.name === DIAGNOSTIC_SETTING_NAME);
  if (ours && sendsAudit(ours)) return { kind: "no-change" };
  // Azure refuses a second setting sending the same category to the same sink (409 "Data sink … is already used"), so reuse it.
  const existing = c.settings.find(sendsAudit);
  if (existing) return { kind: "adopt", setting: existing };
  if (ours) {
    const details: string[] = [];
    if (!sameId(ours.storageAccountId, c.storageAccountId))
      details.push(`storageAccountId: ${ours.storageAccountId ?? "none"} → ${c.storageAccountId}`);
    if (!ours.enabledCategories.includes(KUBE_AUDIT_CATEGORY))
      details.push(`logs: ${ours.enabledCategories.join(", ") || "none"} → ${KUBE_AUDIT_CATEGORY}`);
    return { kind: "update", details };
  }
  if (c.settings.length >= MAX_DIAGNOSTIC_SETTINGS) return { kind: "blocked", block: limitBlock(c.cluster) };
  return { kind: "create" };
}

function planCluster(c: ClusterDiagnosticsLive): PlannedChange {
  const w = clusterWork(c);
  const account = accountNameOf(c.storageAccountId);
  const base = {
    stepId: STEP_ID,
    key: settingKey(c.cluster.id),
    resourceType: "Diagnostic setting",
    resource: `${c.cluster.name}/${DIAGNOSTIC_SETTING_NAME}`,
  } as const;
  const why = `Sends the cluster's kube-audit log to ${account} in ${c.cluster.location}, where the vendor reads it`;
  switch (w.kind) {
    case "no-change":
      return { ...base, action: "no-change", why: `Already ${why.charAt(0).toLowerCase()}${why.slice(1)}` };
    case "adopt":
      return {
        ...base,
        resource: `${c.cluster.name}/${w.setting.name}`,
        action: "adopt",
        why: `Your setting '${w.setting.name}' already sends kube-audit to ${account}; Azure allows only one setting per category and destination, so it is reused`,
      };
    case "update":
      return { ...base, action: "update", why, details: w.details };
    case "create":
      return {
        ...base,
        action: "create",
        why,
        details: [
          `logs: ${KUBE_AUDIT_CATEGORY} only`,
          `storageAccountId: ${c.storageAccountId}`,
          `settings on the cluster: ${c.settings.length} of ${MAX_DIAGNOSTIC_SETTINGS}`,
        ],
      };
    case "blocked": {
      const { block } = w;
      // At plan time the admin can also leave the cluster out (the plan page offers it) or free a slot and re-read Azure.
      const action =
        block.code === "diagnostic_settings_limit"
          ? "Remove a diagnostic setting it no longer needs (Azure portal: the cluster, Diagnostic settings) and re-read Azure, or leave it out and onboard it later (Re-check coverage, then Extend the run)."
          : "Leave it out of this run.";
      return {
        ...base,
        action: "create",
        why: `Blocked: ${block.reason}`,
        details: [`settings on the cluster: ${c.settings.length} of ${MAX_DIAGNOSTIC_SETTINGS}`],
        attention: {
          kind: "cluster",
          subject: block.clusterName,
          resourceId: block.clusterId,
          code: block.code,
          reason: block.reason,
          action,
        },
      };
    }
  }
}

type ClusterResult = { setting: ClusterSettingOutput } | { blocked: BlockedCluster };

/**
 * Write our setting. A cluster that can't take it for a reason no retry fixes (the limit, a deny policy, the cluster
 * gone) becomes blocked; a sink conflict or the limit met only now (someone changed the cluster since the read) is
 * settled by listing again and counting. Anything else (throttling, sign-in, permissions) is thrown as before.
 */
async function applyCluster(ctx: StepContext, c: ClusterDiagnosticsLive): Promise<ClusterResult> {
  const w = clusterWork(c);
  const out = (name: string, adopted: boolean): ClusterResult => ({
    setting: { clusterId: c.cluster.id, clusterName: c.cluster.name, name, storageAccountId: c.storageAccountId, adopted },
  });
  if (w.kind === "no-change") return out(DIAGNOSTIC_SETTING_NAME, false);
  if (w.kind === "adopt") return out(w.setting.name, true);
  if (w.kind === "blocked") return { blocked: w.block };
  try {
    await ctx.write(
      { key: settingKey(c.cluster.id), kind: w.kind, target: `kube-audit diagnostic setting on ${c.cluster.name}` },
      () => putDiagnosticSetting(ctx.arm, c.cluster.id, DIAGNOSTIC_SETTING_NAME, c.storageAccountId),
      () => `${c.cluster.id}/providers/Microsoft.Insights/diagnosticSettings/${DIAGNOSTIC_SETTING_NAME}`,
    );
    return out(DIAGNOSTIC_SETTING_NAME, false);
  } catch (error) {
    if (!(error instanceof AzureOperationError)) throw error;
    if (isPolicyDenial(error)) return { blocked: policyBlock(c.cluster, error) };
    if (isClusterGone(error)) return { blocked: goneBlock(c.cluster) };
    // The limit's error text is not documented: any 400/409 is settled by what the cluster has now.
    if (error.code !== "sink_in_use" && error.status !== 400 && error.status !== 409) throw error;
    const again = await readCluster(ctx, c);
    const settled = clusterWork(again);
    if (settled.kind === "adopt") return out(settled.setting.name, true);
    if (settled.kind === "no-change") return out(DIAGNOSTIC_SETTING_NAME, false);
    if (settled.kind === "blocked") return { blocked: settled.block };
    throw error;
  }
}

/** One cluster's settings now; a cluster Azure no longer finds is marked gone instead of failing the step. */
async function readCluster(ctx: StepContext, c: ClusterDiagnosticsLive): Promise<ClusterDiagnosticsLive> {
  try {
    const { gone: _gone, ...rest } = c;
    return { ...rest, settings: await listDiagnosticSettings(ctx.arm, c.cluster.id) };
  } catch (error) {
    if (error instanceof AzureOperationError && isClusterGone(error)) return { ...c, settings: [], gone: true };
    throw error;
  }
}

function targetsOf(ctx: StepContext): ClusterDiagnosticsLive[] {
  return ctx.config.clusters.map((cluster) => ({
    cluster,
    storageAccountId: storageAccountIdForCluster(ctx.config, ctx.outputs, cluster),
    settings: [],
  }));
}

/** Group by subscription (Azure throttles per subscription), bounded within each, all groups at once; every cluster finishes before a failure is thrown. */
function perSubscriptionSettled<R>(
  clusters: readonly ClusterDiagnosticsLive[],
  fn: (c: ClusterDiagnosticsLive) => Promise<R>,
): Promise<R[]> {
  return mapPerGroupSettled(
    clusters,
    (c) => c.cluster.subscriptionId,
    PER_SUBSCRIPTION_CONCURRENCY,
    (c) => fn(c),
  );
}

/** What the step writes on one cluster, for the change-approval exports. */
export type DiagnosticSettingDescription = DescribedResource<{
  clusterName: string;
  subscriptionId: string;
  category: string;
  storageAccountId: string;
}>;

/** One kube-audit setting per cluster of the run, to its region's account, with the body the step sends. */
export function describeDiagnosticSettings({ config }: DescribeInput): DiagnosticSettingDescription[] {
  return config.clusters.map((c) => {
    const storageAccountId = storageAccountIdForCluster(config, {}, c);
    const setting = kubeAuditSettingBody(storageAccountId);
    return {
      key: settingKey(c.id),
      resourceType: "Microsoft.Insights/diagnosticSettings",
      name: DIAGNOSTIC_SETTING_NAME,
      scope: c.id,
      properties: {
        clusterName: c.name,
        subscriptionId: c.subscriptionId,
        category: setting.logs?.[0]?.category ?? KUBE_AUDIT_CATEGORY,
        storageAccountId: setting.storageAccountId ?? storageAccountId,
      },
    };
  });
}

/** Removes the run's kube-audit settings (the clusters' other settings stay). */
export const diagnosticSettingsRemoval = standardRemoval({
  categories: ["diagnostic-setting"],
  categoryOf: (key) => (diagnosticSettingsKeys.parse(key) ? "diagnostic-setting" : null),
  describe(w) {
    const k = diagnosticSettingsKeys.parse(w.key);
    const cluster = k?.clusterId ?? "";
    return { resourceType: "Diagnostic setting", resource: `${cluster.split("/").pop() ?? cluster}/${k?.name ?? ""}` };
  },
  keptType: () => "Change",
  why: { "diagnostic-setting": "Stops sending the cluster's kube-audit logs to the audit storage account." },
  async resolve(w, _category, ctx) {
    const k = diagnosticSettingsKeys.parse(w.key);
    if (!k) return { state: "absent" };
    const find = async () =>
      (await absentOn404(() => listDiagnosticSettings(ctx.arm, k.clusterId)))?.find((s) => s.name === k.name) ?? null;
    if (!(await find())) return { state: "absent" };
    return {
      state: "present",
      live: { remove: () => deleteDiagnosticSetting(ctx.arm, k.clusterId, k.name), exists: async () => (await find()) !== null },
    };
  },
});

/** Step 2: one kube-audit diagnostic setting per selected cluster, to its region's account. */
export const diagnosticSettingsStep: StepModule<DiagnosticSettingsLive, DiagnosticSettingsOutput> = {
  id: STEP_ID,
  removal: diagnosticSettingsRemoval,

  async read(ctx) {
    return { clusters: await perSubscriptionSettled(targetsOf(ctx), (t) => readCluster(ctx, t)) };
  },

  plan(_ctx, live) {
    return live.clusters.map(planCluster);
  },

  async apply(ctx, live) {
    const total = live.clusters.length;
    let done = 0;
    await ctx.progress({ done, total, label: `Diagnostic settings 0 of ${total} clusters` });
    const results = await perSubscriptionSettled(live.clusters, async (c) => {
      const result = await applyCluster(ctx, c);
      done += 1;
      await ctx.progress({ done, total, label: `Diagnostic settings ${done} of ${total} clusters` });
      return result;
    });
    const output: DiagnosticSettingsOutput = {
      settings: results.flatMap((r) => ("setting" in r ? [r.setting] : [])),
      blocked: results.flatMap((r) => ("blocked" in r ? [r.blocked] : [])),
    };
    // One blocked cluster must not stop the others: the step is done with exceptions. With none left, nothing is onboarded.
    if (output.settings.length === 0 && output.blocked.length > 0) throw new NoClusterConfiguredError(output);
    return output;
  },

  async verify(ctx, out): Promise<VerifyResult> {
    const failures: string[] = [];
    const checks: string[] = [];
    // Blocked clusters are the step's exceptions: not listed again (a deleted one would answer 404).
    const blocked = new Set(out.blocked.map((b) => b.clusterId.toLowerCase()));
    const listed = await perSubscriptionSettled(
      targetsOf(ctx).filter((t) => !blocked.has(t.cluster.id.toLowerCase())),
      async (t) => ({ ...t, settings: await listDiagnosticSettings(ctx.arm, t.cluster.id) }),
    );
    for (const c of listed) {
      const sending = c.settings.find(
        (s) => sameId(s.storageAccountId, c.storageAccountId) && s.enabledCategories.includes(KUBE_AUDIT_CATEGORY),
      );
      if (sending) checks.push(`${c.cluster.name}: setting '${sending.name}' sends kube-audit to ${accountNameOf(c.storageAccountId)}`);
      else failures.push(`Cluster ${c.cluster.name} does not send kube-audit to ${accountNameOf(c.storageAccountId)}.`);
    }
    if (failures.length) return { ok: false, reason: failures.join(" ") };
    return { ok: true, checks, ...(out.blocked.length ? { attention: attentionOf(out) } : {}) };
  },
};

/** The step's exceptions as the engine stores them: each blocked cluster, why and what to do. */
export function attentionOf(out: DiagnosticSettingsOutput): AttentionItem[] {
  return out.blocked.map((b) => ({
    kind: "cluster",
    subject: b.clusterName,
    resourceId: b.clusterId,
    code: b.code,
    reason: b.reason,
    action: b.action,
  }));
}
