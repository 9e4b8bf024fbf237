// Starting a run: defaults from the live estate, live storage-name checks, and run creation with its plan.
import type { TokenCredential } from "@azure/core-auth";
import { failure, type ActionResult } from "@/lib/action-result";
import { checkStorageAccountName } from "@/lib/azure/check-storage-account-name";
import { getStorageAccount } from "@/lib/azure/get-storage-account";
import { listManagedClusters, type ManagedCluster } from "@/lib/azure/list-managed-clusters";
import { listSubscriptions } from "@/lib/azure/list-subscriptions";
import { recordAuditEvent } from "@/lib/db/audit";
import { toJsonValue } from "@/lib/db/json";
import { createRun } from "@/lib/db/runs";
import type { SessionWithUser } from "@/lib/db/sessions";
import { loadEstate } from "@/lib/estate/load-estate";
import { runConfigSchema, type RunConfig } from "@/lib/steps/config";
import { STEP_IDS } from "@/lib/steps/registry";
import { suggestStorageAccountName } from "@/lib/steps/storage-names";
import { vendorProfile } from "@/lib/vendor";
import { AZURE_REGION_NAME, type NewRunInput, type StorageNameCheckInput } from "./schemas";
import { readFailure, sessionTokens, trackedCredential } from "./tokens";
import { planStoredRun } from "./plan";

export const DEFAULT_RESOURCE_GROUP = "rg-aks-audit";

export interface NewRunDefaults {
  subscriptions: {
    id: string;
    displayName: string;
    canAssignRoles: boolean | null;
    clusters: Pick<ManagedCluster, "id" | "name" | "location" | "resourceGroup">[];
    error?: string;
  }[];
  regions: { region: string; subscriptionId: string; resourceGroup: string; accountName: string }[];
  restrictNetworkAvailable: boolean;
  egressIps: string[];
  workbenchConfigured: boolean;
}

/** Everything the "new onboarding" form starts with: all subscriptions and clusters selected, one account per region. */
export async function loadNewRunDefaults(session: SessionWithUser): Promise<ActionResult<NewRunDefaults>> {
  const estate = await loadEstate(session);
  if (!estate.ok) return failure(estate.message, { code: estate.code });
  const subscriptions = estate.subscriptions.map((s) => ({
    id: s.id,
    displayName: s.displayName,
    canAssignRoles: s.roleAssignments.status === "unknown" ? null : s.roleAssignments.status === "allowed",
    clusters: s.regions.flatMap((r) => r.clusters.map(({ id, name, location, resourceGroup }) => ({ id, name, location, resourceGroup }))),
    error: s.clustersError,
  }));
  const regions = new Map<string, string>();
  // The audit account of a region lives in the subscription with the most clusters there (ties: the first by name).
  for (const region of new Set(subscriptions.flatMap((s) => s.clusters.map((c) => c.location)))) {
    const best = [...subscriptions].sort(
      (a, b) => b.clusters.filter((c) => c.location === region).length - a.clusters.filter((c) => c.location === region).length,
    )[0];
    if (best) regions.set(region, best.id);
  }
  const vendor = vendorProfile();
  return {
    ok: true,
    data: {
      subscriptions,
      regions: [...regions.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([region, subscriptionId]) => ({
          region,
          subscriptionId,
          resourceGroup: DEFAULT_RESOURCE_GROUP,
          accountName: suggestStorageAccountName(session.user.tenantId, region),
        })),
      restrictNetworkAvailable: vendor.egressIps.length > 0,
      egressIps: vendor.egressIps,
      workbenchConfigured: vendor.workbenchConfigured,
    },
  };
}

export type StorageNameStatus = "available" | "yours" | "taken" | "invalid";

/** Live check of a proposed account name: free, the customer's own (adoptable), or taken elsewhere. */
export async function checkStorageName(
  session: SessionWithUser,
  input: StorageNameCheckInput,
): Promise<ActionResult<{ status: StorageNameStatus; message: string; location?: string }>> {
  const tracked = trackedCredential(sessionTokens(session), "arm");
  const arm = tracked.credential;
  try {
    // The customer's own account also answers "AlreadyExists": look in the chosen resource group first.
    const existing = await getStorageAccount(arm, input.subscriptionId, input.resourceGroup, input.accountName);
    if (existing) {
      return {
        ok: true,
        data: { status: "yours", location: existing.location, message: `Exists in ${input.resourceGroup} (${existing.location}): it will be adopted, not created.` },
      };
    }
    const check = await checkStorageAccountName(arm, input.subscriptionId, input.accountName);
    if (check.available) return { ok: true, data: { status: "available", message: "Available." } };
    if (check.reason === "invalid") return { ok: true, data: { status: "invalid", message: check.message } };
    return { ok: true, data: { status: "taken", message: "This name is taken by another Azure storage account. Choose another." } };
  } catch (error) {
    return readFailure(error, tracked);
  }
}

/** Validate the choices against the live estate, create the run and compute its plan (no Azure writes). */
export async function createOnboardingRun(session: SessionWithUser, input: NewRunInput): Promise<ActionResult<{ runId: string }>> {
  const tokens = sessionTokens(session);
  const tracked = trackedCredential(tokens, "arm");
  let config: RunConfig;
  try {
    const built = await buildConfig(session, tracked.credential, input);
    if (!built.ok) return built;
    config = built.data;
  } catch (error) {
    return readFailure(error, tracked);
  }
  const run = await createRun({
    tenantId: session.user.tenantId,
    createdByUserId: session.user.id,
    createdByUpn: session.user.upn,
    config: toJsonValue(config),
    steps: STEP_IDS,
  });
  await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: "run.created",
    target: run.id,
    runId: run.id,
    outcome: "success",
    detail: { subscriptions: config.subscriptions.length, clusters: config.clusters.length, regions: config.storage.length },
  });
  const planned = await planStoredRun(run.id, session.user.tenantId, session.user.upn, config, tokens);
  if (!planned.ok) return planned;
  return { ok: true, data: { runId: run.id } };
}

async function buildConfig(
  session: SessionWithUser,
  arm: TokenCredential,
  input: NewRunInput,
): Promise<ActionResult<RunConfig>> {
  const visible = new Map((await listSubscriptions(arm)).map((s) => [s.id, s]));
  const chosenSubs = [...new Set(input.subscriptionIds)];
  // Never trust ids from the browser: every subscription and cluster must be visible to this admin now.
  for (const id of chosenSubs) {
    if (!visible.has(id)) return failure("A selected subscription is not visible to you anymore. Reload the page.", { fieldErrors: { subscriptionIds: ["not visible"] } });
  }
  const clusters = (await Promise.all(chosenSubs.map((id) => listManagedClusters(arm, id)))).flat();
  const byId = new Map(clusters.map((c) => [c.id.toLowerCase(), c]));
  const chosenClusters = [...new Set(input.clusterIds.map((id) => id.toLowerCase()))].map((id) => byId.get(id));
  if (chosenClusters.some((c) => !c)) {
    return failure("A selected cluster is not in the selected subscriptions. Reload the page.", { fieldErrors: { clusterIds: ["unknown cluster"] } });
  }
  const clusterRegions = new Set(chosenClusters.flatMap((c) => (c ? [c.location.toLowerCase()] : [])));
  const fieldErrors: Record<string, string[]> = storageRegionErrors(input.storage, [...clusterRegions]);
  const storage: RunConfig["storage"] = [];
  for (const [index, choice] of input.storage.entries()) {
    // Checked before any Azure call for the entry: an unknown region never reaches Azure, the config or the exports.
    const region = choice.region.toLowerCase();
    if (!clusterRegions.has(region) || fieldErrors[`storage.${index}.region`]) continue;
    if (!chosenSubs.includes(choice.subscriptionId)) {
      fieldErrors[`storage.${index}.subscriptionId`] = ["must be one of the selected subscriptions"];
      continue;
    }
    const existing = await getStorageAccount(arm, choice.subscriptionId, choice.resourceGroup, choice.accountName);
    if (existing && existing.location.toLowerCase() !== choice.region.toLowerCase()) {
      // Azure Monitor only writes to a destination in the cluster's own region.
      fieldErrors[`storage.${index}.accountName`] = [`is in ${existing.location}; the account for ${choice.region} must be in ${choice.region}`];
      continue;
    }
    if (!existing) {
      const check = await checkStorageAccountName(arm, choice.subscriptionId, choice.accountName);
      if (!check.available) {
        fieldErrors[`storage.${index}.accountName`] = [check.reason === "invalid" ? check.message : "is taken by another Azure storage account"];
        continue;
      }
    }
    storage.push({ ...choice, region, createResourceGroup: true, adopt: Boolean(existing) });
  }
  if (Object.keys(fieldErrors).length > 0) return failure("Check the highlighted storage accounts.", { fieldErrors });

  const vendor = vendorProfile();
  const parsed = runConfigSchema.safeParse({
    tenantId: session.user.tenantId,
    subscriptions: chosenSubs.map((id) => ({ id, displayName: visible.get(id)?.displayName ?? id })),
    clusters: chosenClusters.flatMap((c) => (c ? [{ id: c.id, name: c.name, subscriptionId: subscriptionOf(c.id), resourceGroup: c.resourceGroup, location: c.location, entraIntegration: c.entraIntegration }] : [])),
    storage,
    options: { restrictNetwork: input.restrictNetwork, retentionDays: input.retentionDays, secretLifetimeDays: input.secretLifetimeDays },
    vendor: { name: vendor.name, appUniqueName: vendor.appUniqueName, appDisplayName: vendor.appDisplayName, egressIps: vendor.egressIps },
  });
  if (!parsed.success) {
    return failure(parsed.error.issues[0]?.message ?? "Check your choices.", {
      fieldErrors: Object.fromEntries(parsed.error.issues.map((i) => [i.path.join("."), [i.message]])),
    });
  }
  return { ok: true, data: parsed.data };
}

/** Field errors for storage entries whose region is no selected cluster's region (case-insensitive) or repeats an earlier entry's. */
export function storageRegionErrors(storage: readonly { region: string }[], clusterRegions: readonly string[]): Record<string, string[]> {
  const regions = new Set(clusterRegions.map((r) => r.toLowerCase()));
  const seen = new Set<string>();
  const errors: Record<string, string[]> = {};
  for (const [index, { region }] of storage.entries()) {
    const key = region.toLowerCase();
    // The message may echo only a value shaped like a region name: anything else is not shown back to the form.
    if (!regions.has(key)) errors[`storage.${index}.region`] = [AZURE_REGION_NAME.test(key) ? `no selected cluster runs in ${key}` : "is not an Azure region of the selected clusters"];
    else if (seen.has(key)) errors[`storage.${index}.region`] = [`another account is already chosen for ${key}`];
    seen.add(key);
  }
  return errors;
}

function subscriptionOf(resourceId: string): string {
  return resourceId.split("/")[2] ?? "";
}
