// Starting a run: defaults from the live estate, live storage-name checks, and run creation with its plan.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { failure, type ActionResult } from "@/lib/action-result";
import { mayPlanRun } from "@/lib/authz/decide";
import { checkStorageAccountName, type StorageNameCheck } from "@/lib/azure/check-storage-account-name";
import { AzureOperationError } from "@/lib/azure/errors";
import { getProviderRegistration } from "@/lib/azure/get-provider-registration";
import { getStorageAccount, type StorageAccountInfo } from "@/lib/azure/get-storage-account";
import { listDiagnosticSettings } from "@/lib/azure/list-diagnostic-settings";
import { listManagedClusters, type ManagedCluster } from "@/lib/azure/list-managed-clusters";
import { listSubscriptions } from "@/lib/azure/list-subscriptions";
import { KUBE_AUDIT_CATEGORY } from "@/lib/azure/put-diagnostic-setting";
import { mapBounded } from "@/lib/concurrency";
import { recordAuditEvent } from "@/lib/db/audit";
import { toJsonValue } from "@/lib/db/json";
import { createRun } from "@/lib/db/runs";
import type { SessionWithUser } from "@/lib/db/sessions";
import { loadEstate } from "@/lib/estate/load-estate";
import { runConfigSchema, type RunConfig } from "@/lib/steps/config";
import { DIAGNOSTIC_SETTING_NAME, MAX_DIAGNOSTIC_SETTINGS } from "@/lib/steps/diagnostic-settings";
import { STEP_IDS } from "@/lib/steps/registry";
import { suggestStorageAccountName } from "@/lib/steps/storage-names";
import { vendorProfile } from "@/lib/vendor";
import { AZURE_REGION_NAME, type NewRunInput, type StorageNameCheckInput } from "./schemas";
import { probeFor } from "./authorize";
import { readFailure, sessionTokens, trackedCredential } from "@/lib/auth/tokens";
import { planStoredRun } from "./plan";
import { requiredTagsWhereCreated, type RequiredTagsResult } from "./required-tags";
import type { ClusterPreflight } from "./preflight";
import { defaultStorageSubscription, isReadOnlyState, READ_ONLY_ADVICE } from "./storage-defaults";

export const DEFAULT_RESOURCE_GROUP = "rg-aks-audit";

export interface NewRunDefaults {
  subscriptions: {
    id: string;
    displayName: string;
    /** As Azure lists it: Enabled, Warned, PastDue, Disabled, Deleted. */
    state: string;
    /** No writes possible (Disabled/Deleted): shown, never selectable. */
    readOnly: boolean;
    canAssignRoles: boolean | null;
    /** Microsoft.Storage registered; null when unknown (only read for subscriptions with clusters). */
    storageRegistered: boolean | null;
    /** The admin may create storage here (what preparing a plan needs); null when unknown. */
    canCreateStorage: boolean | null;
    /** Why the admin can't prepare a plan with storage here, naming the role and who can act. */
    planRefusal?: { code: string; message: string };
    clusters: Pick<ManagedCluster, "id" | "name" | "location" | "resourceGroup" | "entraIntegration">[];
    error?: string;
  }[];
  regions: { region: string; subscriptionId: string; resourceGroup: string; accountName: string }[];
  /** By lowercase cluster id, for clusters in subscriptions that can be onboarded. */
  preflight: Record<string, ClusterPreflight>;
  restrictNetworkAvailable: boolean;
  egressIps: string[];
  workbenchConfigured: boolean;
  /** Tags that enforced deny policies require where the default choices create things (best-effort, with notes). */
  requiredTags: RequiredTagsResult;
}

// Reads for the form's flags and defaults: bounded like the estate's own reads (ARM throttles per subscription).
const SUBSCRIPTION_READS = 6;
const SETTINGS_READS = 16;

/** Everything the "new onboarding" form starts with: all subscriptions and clusters selected, one account per region. */
export async function loadNewRunDefaults(session: SessionWithUser, probe = probeFor(session)): Promise<ActionResult<NewRunDefaults>> {
  const estate = await loadEstate(session);
  if (!estate.ok) return failure(estate.message, { code: estate.code });
  const arm = trackedCredential(sessionTokens(session), "arm").credential;
  const writable = estate.subscriptions.filter((s) => !isReadOnlyState(s.state));
  const withClusters = writable.filter((s) => s.clusterCount > 0);
  const clusters = writable.flatMap((s) => s.regions.flatMap((r) => r.clusters));
  // Every shown cluster's diagnostic settings are read side by side with registration and permissions (and the
  // required-tag reads that need them); each read settles on its own, so this promise never rejects.
  const settingsRead = mapBounded(clusters, SETTINGS_READS, (c) =>
    listDiagnosticSettings(arm, c.id).then(
      (list) => ({ id: c.id, list }),
      () => ({ id: c.id, list: null }),
    ),
  );
  const readiness = await mapBounded(withClusters, SUBSCRIPTION_READS, async (s) => {
    const [registration, decision] = await Promise.all([
      getProviderRegistration(arm, s.id, "Microsoft.Storage").then(
        (r) => r.registered,
        () => null,
      ),
      mayPlanRun(probe, {
        storageSubscriptions: [s.id],
        clusterSubscriptions: [],
        appUniqueName: "",
        subscriptionNames: new Map([[s.id.toLowerCase(), s.displayName]]),
      }),
    ]);
    return { id: s.id, registered: registration, decision };
  });
  const ready = new Map(readiness.map((r) => [r.id, r]));
  const subscriptions: NewRunDefaults["subscriptions"] = estate.subscriptions.map((s) => {
    const r = ready.get(s.id);
    const refusal = r && !r.decision.allowed ? { code: r.decision.code, message: r.decision.message } : undefined;
    return {
      id: s.id,
      displayName: s.displayName,
      state: s.state,
      readOnly: isReadOnlyState(s.state),
      canAssignRoles: s.roleAssignments.status === "unknown" ? null : s.roleAssignments.status === "allowed",
      storageRegistered: r?.registered ?? null,
      canCreateStorage: r ? (r.decision.allowed ? true : r.decision.code === "not_permitted" ? false : null) : null,
      ...(refusal ? { planRefusal: refusal } : {}),
      clusters: s.regions.flatMap((g) =>
        g.clusters.map(({ id, name, location, resourceGroup, entraIntegration }) => ({
          id,
          name,
          location,
          resourceGroup,
          entraIntegration,
        })),
      ),
      error: s.clustersError,
    };
  });
  const regions = [...new Set(subscriptions.filter((s) => !s.readOnly).flatMap((s) => s.clusters.map((c) => c.location)))].sort((a, b) =>
    a.localeCompare(b),
  );
  const [settings, requiredTags] = await Promise.all([
    settingsRead,
    requiredTagsWhereCreated(
      arm,
      regions.map((r) => defaultStorageSubscription(r, subscriptions)),
      subscriptions,
      DEFAULT_RESOURCE_GROUP,
    ),
  ]);
  const vendor = vendorProfile();
  return {
    ok: true,
    data: {
      subscriptions,
      regions: regions.flatMap((region) => {
        const subscriptionId = defaultStorageSubscription(region, subscriptions);
        return subscriptionId
          ? [
              {
                region,
                subscriptionId,
                resourceGroup: DEFAULT_RESOURCE_GROUP,
                accountName: suggestStorageAccountName(session.user.tenantId, region),
              },
            ]
          : [];
      }),
      preflight: Object.fromEntries(settings.map((s) => [s.id.toLowerCase(), preflightOf(s.list)])),
      restrictNetworkAvailable: vendor.egressIps.length > 0,
      egressIps: vendor.egressIps,
      workbenchConfigured: vendor.workbenchConfigured,
      requiredTags,
    },
  };
}

const ACCOUNT_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)$/i;

/** A cluster's flags from its diagnostic settings: how many, whether the limit stops the portal's, where kube-audit already goes. */
export function preflightOf(
  list: readonly { name: string; storageAccountId: string | null; enabledCategories: string[] }[] | null,
): ClusterPreflight {
  if (!list) return { settingsCount: null, limitReached: false, kubeAuditExports: [] };
  const kubeAuditExports = list.flatMap((s) => {
    const m = s.storageAccountId && s.enabledCategories.includes(KUBE_AUDIT_CATEGORY) ? ACCOUNT_ID.exec(s.storageAccountId) : null;
    return m?.[1] && m[2] && m[3] && s.storageAccountId
      ? [{ settingName: s.name, accountId: s.storageAccountId, subscriptionId: m[1], resourceGroup: m[2], accountName: m[3] }]
      : [];
  });
  const limitReached = list.length >= MAX_DIAGNOSTIC_SETTINGS && !list.some((s) => s.name === DIAGNOSTIC_SETTING_NAME);
  return { settingsCount: list.length, limitReached, kubeAuditExports };
}

export type StorageNameStatus = "available" | "yours" | "taken" | "invalid" | "deferred";

/** What the form says when no subscription can check a name yet: not an error, the plan registers the provider first. */
export const DEFERRED_NAME_MESSAGE =
  "Checked once the plan has registered Microsoft.Storage: Azure answers name checks only in a subscription registered for it. Nothing blocks reviewing the plan.";

/** The account in the chosen group, or null; a subscription without Microsoft.Storage can't hold one. */
async function existingAccount(
  arm: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
): Promise<StorageAccountInfo | null> {
  try {
    return await getStorageAccount(arm, subscriptionId, resourceGroup, name);
  } catch (error) {
    if (error instanceof AzureOperationError && error.code === "provider_not_registered") return null;
    throw error;
  }
}

/** Ask the first of `subscriptions` that can answer (names are global); null when none is registered for Microsoft.Storage. */
async function checkNameAnywhere(
  arm: TokenCredential,
  subscriptions: readonly (string | undefined)[],
  name: string,
): Promise<StorageNameCheck | null> {
  const tried = new Set<string>();
  for (const sub of subscriptions) {
    if (!sub || tried.has(sub.toLowerCase())) continue;
    tried.add(sub.toLowerCase());
    try {
      return await checkStorageAccountName(arm, sub, name);
    } catch (error) {
      if (error instanceof AzureOperationError && error.code === "provider_not_registered") continue;
      throw error;
    }
  }
  return null;
}

/** Live check of a proposed account name: free, the customer's own (adoptable), taken elsewhere, or checked after registration. */
export async function checkStorageName(
  session: SessionWithUser,
  input: StorageNameCheckInput,
): Promise<ActionResult<{ status: StorageNameStatus; message: string; location?: string }>> {
  const tracked = trackedCredential(sessionTokens(session), "arm");
  const arm = tracked.credential;
  try {
    // The customer's own account also answers "AlreadyExists": look in the chosen resource group first.
    const existing = await existingAccount(arm, input.subscriptionId, input.resourceGroup, input.accountName);
    if (existing) {
      return {
        ok: true,
        data: {
          status: "yours",
          location: existing.location,
          message: `Exists in ${input.resourceGroup} (${existing.location}): it will be adopted, not created.`,
        },
      };
    }
    const check = await checkNameAnywhere(arm, [input.subscriptionId, input.nameCheckSubscriptionId], input.accountName);
    if (!check) return { ok: true, data: { status: "deferred", message: DEFERRED_NAME_MESSAGE } };
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

async function buildConfig(session: SessionWithUser, arm: TokenCredential, input: NewRunInput): Promise<ActionResult<RunConfig>> {
  const visible = new Map((await listSubscriptions(arm)).map((s) => [s.id, s]));
  const chosenSubs = [...new Set(input.subscriptionIds)];
  // Never trust ids from the browser: every subscription and cluster must be visible to this admin now.
  for (const id of chosenSubs) {
    const sub = visible.get(id);
    if (!sub)
      return failure("A selected subscription is not visible to you anymore. Reload the page.", {
        fieldErrors: { subscriptionIds: ["not visible"] },
      });
    if (isReadOnlyState(sub.state)) {
      return failure(
        `${sub.displayName} is ${sub.state} in Azure, so nothing can be created in it. ${READ_ONLY_ADVICE} Leave it out for now.`,
        { fieldErrors: { subscriptionIds: ["read-only subscription"] } },
      );
    }
  }
  const clusters = (await Promise.all(chosenSubs.map((id) => listManagedClusters(arm, id)))).flat();
  const byId = new Map(clusters.map((c) => [c.id.toLowerCase(), c]));
  const chosenClusters = [...new Set(input.clusterIds.map((id) => id.toLowerCase()))].map((id) => byId.get(id));
  if (chosenClusters.some((c) => !c)) {
    return failure("A selected cluster is not in the selected subscriptions. Reload the page.", {
      fieldErrors: { clusterIds: ["unknown cluster"] },
    });
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
    const existing = await existingAccount(arm, choice.subscriptionId, choice.resourceGroup, choice.accountName);
    if (existing && existing.location.toLowerCase() !== choice.region.toLowerCase()) {
      // Azure Monitor only writes to a destination in the cluster's own region.
      fieldErrors[`storage.${index}.accountName`] = [
        `is in ${existing.location}; the account for ${choice.region} must be in ${choice.region}`,
      ];
      continue;
    }
    if (!existing) {
      // Names are global: any registered subscription answers. None registered: the storage step checks after registering.
      const check = await checkNameAnywhere(
        arm,
        [choice.subscriptionId, input.nameCheckSubscriptionId, ...input.storage.map((s) => s.subscriptionId)],
        choice.accountName,
      );
      if (check && !check.available) {
        fieldErrors[`storage.${index}.accountName`] = [
          check.reason === "invalid" ? check.message : "is taken by another Azure storage account",
        ];
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
    clusters: chosenClusters.flatMap((c) =>
      c
        ? [
            {
              id: c.id,
              name: c.name,
              subscriptionId: subscriptionOf(c.id),
              resourceGroup: c.resourceGroup,
              location: c.location,
              entraIntegration: c.entraIntegration,
            },
          ]
        : [],
    ),
    storage,
    options: {
      restrictNetwork: input.restrictNetwork,
      retentionDays: input.retentionDays,
      secretLifetimeDays: input.secretLifetimeDays,
      ...(input.tags && Object.keys(input.tags).length > 0 ? { tags: input.tags } : {}),
    },
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
    if (!regions.has(key))
      errors[`storage.${index}.region`] = [
        AZURE_REGION_NAME.test(key) ? `no selected cluster runs in ${key}` : "is not an Azure region of the selected clusters",
      ];
    else if (seen.has(key)) errors[`storage.${index}.region`] = [`another account is already chosen for ${key}`];
    seen.add(key);
  }
  return errors;
}

function subscriptionOf(resourceId: string): string {
  return resourceId.split("/")[2] ?? "";
}
