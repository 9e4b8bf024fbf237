// Step 2: send each selected cluster's kube-audit log to the storage account of its region.
import { mapPerGroupSettled } from "@/lib/concurrency";
import { AzureOperationError } from "@/lib/azure/errors";
import { listDiagnosticSettings, type DiagnosticSetting } from "@/lib/azure/list-diagnostic-settings";
import { KUBE_AUDIT_CATEGORY, putDiagnosticSetting } from "@/lib/azure/put-diagnostic-setting";
import type { ClusterChoice, RunConfig } from "./config";
import { storageAccountIdOf, type StorageOutput } from "./storage";
import type { PlannedChange, StepContext, StepModule, VerifyResult } from "./types";

/** Our setting's name on every cluster: fixed, so a re-run updates it instead of adding a second one. */
export const DIAGNOSTIC_SETTING_NAME = "aks-onboarding-kube-audit";
/** Azure Monitor's limit of diagnostic settings per resource. */
export const MAX_DIAGNOSTIC_SETTINGS = 5;

/** One cluster's current diagnostic settings and the account its kube-audit log must reach. */
export interface ClusterDiagnosticsLive {
  cluster: ClusterChoice;
  storageAccountId: string;
  settings: DiagnosticSetting[];
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

/** A cluster the step could not configure, with what the admin must do. */
export interface BlockedCluster {
  clusterId: string;
  clusterName: string;
  reason: string;
}

/** The diagnostic-settings step's result. apply returns it with `blocked` empty; a non-empty one travels in DiagnosticSettingsBlockedError. */
export interface DiagnosticSettingsOutput {
  settings: ClusterSettingOutput[];
  blocked: BlockedCluster[];
}

const sentence = (reason: string) => `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`;

/**
 * Thrown by apply once every other cluster is done, when some clusters can't take our setting (Azure's 5-settings limit).
 * A permanent failure with the admin's to-do; `output` holds what was configured and what was not.
 */
export class DiagnosticSettingsBlockedError extends AzureOperationError {
  constructor(readonly output: DiagnosticSettingsOutput) {
    super("diagnostic_settings_limit", output.blocked.map((b) => sentence(b.reason)).join(" "));
    this.name = "DiagnosticSettingsBlockedError";
  }
}

const STEP_ID = "diagnostic-settings" as const;
// ARM grants each principal 200 writes per subscription at once (then 10/s): 16 in flight per subscription stays far inside it.
const PER_SUBSCRIPTION_CONCURRENCY = 16;

const sameId = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();
const accountNameOf = (id: string) => id.split("/").pop() ?? id;
const settingKey = (clusterId: string) => `diagnostic-settings.setting:${clusterId}/providers/Microsoft.Insights/diagnosticSettings/${DIAGNOSTIC_SETTING_NAME}`;

function limitReason(clusterName: string): string {
  return `cluster ${clusterName} already has ${MAX_DIAGNOSTIC_SETTINGS} diagnostic settings, Azure's maximum: remove one and retry`;
}

function isStorageOutput(value: unknown): value is StorageOutput {
  const accounts = (value as { accounts?: unknown } | null)?.accounts;
  return Array.isArray(accounts) && accounts.every((a) => typeof (a as { id?: unknown }).id === "string" && typeof (a as { region?: unknown }).region === "string");
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
  if (!choice) throw new AzureOperationError("invalid_request", `No storage account is chosen for region ${cluster.location}, where cluster ${cluster.name} runs.`);
  return storageAccountIdOf(choice);
}

type ClusterWork =
  | { kind: "adopt"; setting: DiagnosticSetting }
  | { kind: "no-change" }
  | { kind: "update"; details: string[] }
  | { kind: "create" }
  | { kind: "blocked"; reason: string };

/** What one cluster needs, from live state alone: shared by plan, apply and the unit tests. */
function clusterWork(c: ClusterDiagnosticsLive): ClusterWork {
  const sendsAudit = (s: DiagnosticSetting) => sameId(s.storageAccountId, c.storageAccountId) && s.enabledCategories.includes(KUBE_AUDIT_CATEGORY);
  const ours = c.settings.find((s) => s.name === DIAGNOSTIC_SETTING_NAME);
  if (ours && sendsAudit(ours)) return { kind: "no-change" };
  // Azure refuses a second setting sending the same category to the same sink (409 "Data sink … is already used"), so reuse it.
  const existing = c.settings.find(sendsAudit);
  if (existing) return { kind: "adopt", setting: existing };
  if (ours) {
    const details: string[] = [];
    if (!sameId(ours.storageAccountId, c.storageAccountId)) details.push(`storageAccountId: ${ours.storageAccountId ?? "none"} → ${c.storageAccountId}`);
    if (!ours.enabledCategories.includes(KUBE_AUDIT_CATEGORY)) details.push(`logs: ${ours.enabledCategories.join(", ") || "none"} → ${KUBE_AUDIT_CATEGORY}`);
    return { kind: "update", details };
  }
  if (c.settings.length >= MAX_DIAGNOSTIC_SETTINGS) return { kind: "blocked", reason: limitReason(c.cluster.name) };
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
      return { ...base, action: "create", why, details: [`logs: ${KUBE_AUDIT_CATEGORY} only`, `storageAccountId: ${c.storageAccountId}`, `settings on the cluster: ${c.settings.length} of ${MAX_DIAGNOSTIC_SETTINGS}`] };
    case "blocked":
      return { ...base, action: "create", why: w.reason, details: [`Blocked: ${w.reason}`] };
  }
}

type ClusterResult = { setting: ClusterSettingOutput } | { blocked: BlockedCluster };

/** Write our setting; a sink conflict or the limit found only now (someone changed the cluster since the read) is settled by listing again. */
async function applyCluster(ctx: StepContext, c: ClusterDiagnosticsLive): Promise<ClusterResult> {
  const w = clusterWork(c);
  const out = (name: string, adopted: boolean): ClusterResult => ({
    setting: { clusterId: c.cluster.id, clusterName: c.cluster.name, name, storageAccountId: c.storageAccountId, adopted },
  });
  const blocked = (reason: string): ClusterResult => ({ blocked: { clusterId: c.cluster.id, clusterName: c.cluster.name, reason } });
  if (w.kind === "no-change") return out(DIAGNOSTIC_SETTING_NAME, false);
  if (w.kind === "adopt") return out(w.setting.name, true);
  if (w.kind === "blocked") return blocked(w.reason);
  try {
    await ctx.write(
      { key: settingKey(c.cluster.id), kind: w.kind, target: `kube-audit diagnostic setting on ${c.cluster.name}` },
      () => putDiagnosticSetting(ctx.arm, c.cluster.id, DIAGNOSTIC_SETTING_NAME, c.storageAccountId),
      () => `${c.cluster.id}/providers/Microsoft.Insights/diagnosticSettings/${DIAGNOSTIC_SETTING_NAME}`,
    );
    return out(DIAGNOSTIC_SETTING_NAME, false);
  } catch (error) {
    if (!(error instanceof AzureOperationError) || (error.code !== "sink_in_use" && error.code !== "diagnostic_settings_limit")) throw error;
    const again = clusterWork({ ...c, settings: await listDiagnosticSettings(ctx.arm, c.cluster.id) });
    if (again.kind === "adopt") return out(again.setting.name, true);
    if (again.kind === "no-change") return out(DIAGNOSTIC_SETTING_NAME, false);
    if (error.code === "diagnostic_settings_limit") return blocked(limitReason(c.cluster.name));
    throw error;
  }
}

/** Group by subscription (Azure throttles per subscription), bounded within each, all groups at once; every cluster finishes before a failure is thrown. */
function perSubscriptionSettled<R>(clusters: readonly ClusterDiagnosticsLive[], fn: (c: ClusterDiagnosticsLive) => Promise<R>): Promise<R[]> {
  return mapPerGroupSettled(clusters, (c) => c.cluster.subscriptionId, PER_SUBSCRIPTION_CONCURRENCY, (c) => fn(c));
}

/** Step 2: one kube-audit diagnostic setting per selected cluster, to its region's account. */
export const diagnosticSettingsStep: StepModule<DiagnosticSettingsLive, DiagnosticSettingsOutput> = {
  id: STEP_ID,

  async read(ctx) {
    const targets = ctx.config.clusters.map((cluster) => ({ cluster, storageAccountId: storageAccountIdForCluster(ctx.config, ctx.outputs, cluster), settings: [] }));
    const clusters = await perSubscriptionSettled(targets, async (t) => ({ ...t, settings: await listDiagnosticSettings(ctx.arm, t.cluster.id) }));
    return { clusters };
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
    const output = {
      settings: results.flatMap((r) => ("setting" in r ? [r.setting] : [])),
      blocked: results.flatMap((r) => ("blocked" in r ? [r.blocked] : [])),
    };
    // Failing only now lets every other cluster finish: a retry after the admin frees a slot writes just the blocked ones.
    if (output.blocked.length) throw new DiagnosticSettingsBlockedError(output);
    return output;
  },

  async verify(ctx, out): Promise<VerifyResult> {
    const failures: string[] = [];
    const checks: string[] = [];
    const listed = await perSubscriptionSettled(
      ctx.config.clusters.map((cluster) => ({ cluster, storageAccountId: storageAccountIdForCluster(ctx.config, ctx.outputs, cluster), settings: [] })),
      async (t) => ({ ...t, settings: await listDiagnosticSettings(ctx.arm, t.cluster.id) }),
    );
    for (const c of listed) {
      const sending = c.settings.find((s) => sameId(s.storageAccountId, c.storageAccountId) && s.enabledCategories.includes(KUBE_AUDIT_CATEGORY));
      if (sending) {
        checks.push(`${c.cluster.name}: setting '${sending.name}' sends kube-audit to ${accountNameOf(c.storageAccountId)}`);
        continue;
      }
      const blocked = out.blocked.find((b) => b.clusterId.toLowerCase() === c.cluster.id.toLowerCase());
      failures.push(blocked ? sentence(blocked.reason) : `Cluster ${c.cluster.name} does not send kube-audit to ${accountNameOf(c.storageAccountId)}.`);
    }
    if (failures.length) return { ok: false, reason: failures.join(" ") };
    return { ok: true, checks };
  },
};
