// Step 1: one secure storage account per AKS region to receive the kube-audit logs, with lifecycle retention.
import "server-only";
import { mapBounded } from "@/lib/concurrency";
import { checkStorageAccountName, type StorageNameCheck } from "@/lib/azure/check-storage-account-name";
import { createStorageAccount, storageAccountCreateParameters } from "@/lib/azure/create-storage-account";
import { ensureResourceGroup } from "@/lib/azure/ensure-resource-group";
import { AzureOperationError, type AzureErrorCode } from "@/lib/azure/errors";
import type { ManagementPolicyRule } from "@azure/arm-storage";
import { getManagementPolicy, getManagementPolicyRules, toLifecycleRule, type LifecycleRule } from "@/lib/azure/get-management-policy";
import { getProviderRegistration } from "@/lib/azure/get-provider-registration";
import { getResourceGroup } from "@/lib/azure/get-resource-group";
import { getStorageAccount, type StorageAccountInfo } from "@/lib/azure/get-storage-account";
import { KUBE_AUDIT_PREFIX, KUBE_AUDIT_RULE_NAME, kubeAuditRetentionRule, putManagementPolicy } from "@/lib/azure/put-management-policy";
import { registerProvider } from "@/lib/azure/register-provider";
import { updateStorageAccountSecurity } from "@/lib/azure/update-storage-account-security";
import { updateStorageNetworkRules } from "@/lib/azure/update-storage-network-rules";
import { deleteManagementPolicy } from "@/lib/azure/delete-management-policy";
import { deleteResourceGroup } from "@/lib/azure/delete-resource-group";
import { deleteStorageAccount } from "@/lib/azure/delete-storage-account";
import { listResourceGroupResources } from "@/lib/azure/list-resource-group-resources";
import type { RunConfig, StorageChoice } from "./config";
import { splitKey } from "./keys";
import {
  absentOn404,
  ALREADY_GONE,
  decideRemoval,
  isRemovable,
  keptLine,
  removableInOrder,
  resolveWrite,
  UNCERTAIN_NOTE,
  type RemovalSpec,
} from "./removal";
import type {
  DescribedResource,
  DescribeInput,
  LiveResource,
  LoggedWrite,
  PlannedChange,
  RemovalContext,
  RemovalLine,
  Resolution,
  StepContext,
  StepModule,
  StepRemoval,
  StepRemovalPlan,
  VerifyResult,
} from "./types";

/** Resource providers the step registers in every subscription of the run (storage accounts and diagnostic settings). */
export const STORAGE_PROVIDER_NAMESPACES = ["Microsoft.Storage", "Microsoft.Insights"] as const;
export type StorageProviderNamespace = (typeof STORAGE_PROVIDER_NAMESPACES)[number];

/** Registration of one resource provider in one subscription involved in the run. */
export interface ProviderLive {
  subscriptionId: string;
  namespace: StorageProviderNamespace;
  state: string;
  registered: boolean;
}

/** What exists today for one region's storage choice. */
export interface StorageRegionLive {
  choice: StorageChoice;
  /** The account's ARM id, derived from the choice (also before it exists). */
  accountId: string;
  resourceGroupExists: boolean;
  account: StorageAccountInfo | null;
  /** Asked only when the account is not in the chosen group: tells a free name from one taken elsewhere. */
  nameCheck: StorageNameCheck | null;
  /** No involved subscription is registered for Microsoft.Storage yet, so Azure can't check the name: apply checks it after registering. */
  nameDeferred?: boolean;
  /** Lifecycle policy rules; null when the account has no policy (or doesn't exist). */
  policy: LifecycleRule[] | null;
  /** The same rules as Azure stores them, sent back with ours so the account's other rules survive the PUT. */
  policyRules?: ManagementPolicyRule[] | null;
}

/** Live state read by the storage step. */
export interface StorageLive {
  providers: ProviderLive[];
  regions: StorageRegionLive[];
}

/** One region's audit-log account, as later steps and the vendor hand-off need it. */
export interface StorageAccountOutput {
  region: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  id: string;
  blobEndpoint: string;
  adopted: boolean;
}

/** The storage step's result. */
export interface StorageOutput {
  accounts: StorageAccountOutput[];
}

const STEP_ID = "storage" as const;
const TAGS = { "managed-by": "aks-onboarding-portal" };

/** Tags on what the portal creates: the admin's, plus managed-by unless they set it (Azure tag names are case-insensitive). */
export function creationTags(options: RunConfig["options"]): Record<string, string> {
  const mine = options.tags ?? {};
  return Object.keys(mine).some((k) => k.toLowerCase() === "managed-by") ? { ...mine } : { ...mine, ...TAGS };
}

/** The tags as a plan detail line. */
function tagsDetail(config: RunConfig): string {
  return `tags: ${Object.entries(creationTags(config.options))
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}`;
}
// ARM allows 250 reads and 200 writes per subscription at once: these bounds keep a run far inside that.
const READ_CONCURRENCY = 16;
const WRITE_CONCURRENCY = 8;

/** The ARM id of a storage choice's account. */
export function storageAccountIdOf(choice: Pick<StorageChoice, "subscriptionId" | "resourceGroup" | "accountName">): string {
  return `/subscriptions/${choice.subscriptionId}/resourceGroups/${choice.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${choice.accountName}`;
}

const normalizeRegion = (r: string) => r.toLowerCase().replace(/\s+/g, "");
const bareIp = (ip: string) => ip.trim().replace(/\/32$/, "");
const bypassParts = (bypass: string) =>
  bypass
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const hasAzureServicesBypass = (bypass: string) => bypassParts(bypass).some((p) => p.toLowerCase() === "azureservices");
const strongTls = (v: string) => v === "TLS1_2" || v === "TLS1_3";

function subscriptionName(config: RunConfig, id: string): string {
  return config.subscriptions.find((s) => s.id.toLowerCase() === id.toLowerCase())?.displayName ?? id;
}

/** Every subscription the run touches: where accounts live and where clusters live. */
function involvedSubscriptions(config: RunConfig): string[] {
  const seen = new Map<string, string>();
  for (const id of [...config.storage.map((s) => s.subscriptionId), ...config.clusters.map((c) => c.subscriptionId)]) {
    if (!seen.has(id.toLowerCase())) seen.set(id.toLowerCase(), id);
  }
  return [...seen.values()];
}

/** One of the storage step's log keys, parsed. */
export type StorageKey =
  | { kind: "register"; subscriptionId: string; namespace: string }
  | { kind: "resource-group"; subscriptionId: string; resourceGroup: string }
  | { kind: "account" | "network" | "lifecycle"; accountId: string };

const LIFECYCLE_SUFFIX = /\/managementPolicies\/default$/i;
const GROUP_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)$/i;
const PROVIDER_ID = /^\/subscriptions\/([^/]+)\/providers\/([^/]+)$/i;

/** The storage step's operation-log keys and their parser (the strings are persisted: they never change). */
export const storageKeys = {
  register: (sub: string, ns: string) => `storage.register:/subscriptions/${sub}/providers/${ns}`,
  resourceGroup: (c: Pick<StorageChoice, "subscriptionId" | "resourceGroup">) =>
    `storage.resource-group:/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}`,
  account: (id: string) => `storage.account:${id}`,
  network: (id: string) => `storage.network:${id}`,
  lifecycle: (id: string) => `storage.lifecycle:${id}/managementPolicies/default`,
  parse(key: string): StorageKey | null {
    const k = splitKey(key);
    switch (k?.head) {
      case "storage.register": {
        const m = PROVIDER_ID.exec(k.value);
        return m?.[1] && m[2] ? { kind: "register", subscriptionId: m[1], namespace: m[2] } : null;
      }
      case "storage.resource-group": {
        const m = GROUP_ID.exec(k.value);
        return m?.[1] && m[2] ? { kind: "resource-group", subscriptionId: m[1], resourceGroup: m[2] } : null;
      }
      case "storage.account":
        return { kind: "account", accountId: k.value };
      case "storage.network":
        return { kind: "network", accountId: k.value };
      case "storage.lifecycle":
        return { kind: "lifecycle", accountId: k.value.replace(LIFECYCLE_SUFFIX, "") };
      default:
        return null;
    }
  },
};
const keys = storageKeys;

interface Blocker {
  code: AzureErrorCode;
  message: string;
}

interface NetworkChange {
  /** The IP list to write (Deny + these + AzureServices bypass). */
  ips: string[];
  details: string[];
  why: string;
}

/** What one region needs, derived from live state alone: shared by plan, apply and the unit tests. */
interface RegionWork {
  blocker: Blocker | null;
  createGroup: boolean;
  createAccount: boolean;
  securityChanges: string[];
  network: NetworkChange | null;
  /** Plan wording for the firewall when nothing is written to it. */
  networkNote: string;
  policy: { action: "create" | "update"; details: string[] } | null;
}

function blockerOf(config: RunConfig, r: StorageRegionLive): Blocker | null {
  const c = r.choice;
  if (!r.resourceGroupExists && !c.createResourceGroup && !c.adopt) {
    return {
      code: "not_found",
      message: `Resource group ${c.resourceGroup} does not exist in ${subscriptionName(config, c.subscriptionId)} and creating it was not chosen: create it, or let the portal create it, and retry.`,
    };
  }
  if (c.adopt && !r.account) {
    return {
      code: "not_found",
      message: `Storage account ${c.accountName} was not found in resource group ${c.resourceGroup} of ${subscriptionName(config, c.subscriptionId)}: check the name and resource group, or let the portal create a new account.`,
    };
  }
  if (r.account && normalizeRegion(r.account.location) !== normalizeRegion(c.region)) {
    return {
      code: "region_mismatch",
      message: `Storage account ${c.accountName} is in ${r.account.location}, but the clusters are in ${c.region}: Azure Monitor only delivers logs to an account in the cluster's region. Choose an account in ${c.region}.`,
    };
  }
  if (r.account?.isHnsEnabled) {
    return {
      code: "invalid_request",
      message: `Storage account ${c.accountName} has a hierarchical namespace (Data Lake Storage Gen2), which Azure Monitor does not accept as a diagnostic-settings destination: choose another account or let the portal create one.`,
    };
  }
  if (!r.account && r.nameCheck && !r.nameCheck.available) {
    return r.nameCheck.reason === "invalid"
      ? {
          code: "name_invalid",
          message: `The storage account name ${c.accountName} is invalid (${r.nameCheck.message}): choose another name.`,
        }
      : {
          code: "name_taken",
          message: `The storage account name ${c.accountName} is already used by another account in Azure (names are global), and it is not in resource group ${c.resourceGroup}: choose another name.`,
        };
  }
  return null;
}

function securityChangesOf(a: StorageAccountInfo): string[] {
  const out: string[] = [];
  if (!a.httpsOnly) out.push("supportsHttpsTrafficOnly: false → true");
  if (!strongTls(a.minTls)) out.push(`minimumTlsVersion: ${a.minTls || "not set"} → TLS1_2`);
  if (a.allowBlobPublicAccess) out.push("allowBlobPublicAccess: true → false");
  if (a.allowCrossTenantReplication) out.push("allowCrossTenantReplication: true → false");
  return out;
}

function describeRules(n: StorageAccountInfo["networkRules"]): string {
  if (n.defaultAction === "Allow") return "open to all networks";
  return `deny by default, ${n.ipRules.length} IP rule${n.ipRules.length === 1 ? "" : "s"}, bypass ${n.bypass || "None"}`;
}

function networkChangeOf(config: RunConfig, r: StorageRegionLive, a: StorageAccountInfo): NetworkChange | null {
  const current = a.networkRules;
  const currentIps = current.defaultAction === "Deny" ? current.ipRules.map(bareIp) : [];
  const bypassOk = hasAzureServicesBypass(current.bypass);
  if (!config.options.restrictNetwork) {
    // Not restricting never loosens; but a closed firewall without the trusted-services bypass drops every log.
    if (current.defaultAction === "Deny" && !bypassOk) {
      return {
        ips: currentIps,
        details: [`bypass: ${current.bypass || "None"} → AzureServices`, "IP rules: kept as they are"],
        why: "Azure Monitor delivers resource logs as a trusted Microsoft service; a firewall without this bypass drops them",
      };
    }
    return null;
  }
  const vendor = config.vendor.egressIps.map(bareIp);
  // An adopted account keeps the customer's own IP rules; an account of ours holds exactly the vendor's.
  const desired = r.choice.adopt ? [...new Set([...currentIps, ...vendor])] : [...new Set(vendor)];
  const added = desired.filter((ip) => !currentIps.includes(ip));
  const removed = currentIps.filter((ip) => !desired.includes(ip));
  if (current.defaultAction === "Deny" && bypassOk && added.length === 0 && removed.length === 0) return null;
  const details: string[] = [];
  if (current.defaultAction !== "Deny") details.push("defaultAction: Allow → Deny");
  if (!bypassOk) details.push(`bypass: ${current.bypass || "None"} → AzureServices`);
  if (added.length) details.push(`ipRules: +${added.join(", +")}`);
  if (removed.length) details.push(`ipRules: -${removed.join(", -")}`);
  return {
    ips: desired,
    details,
    why: "Only the vendor's egress IPs may reach the account; Azure Monitor still delivers as a trusted service",
  };
}

function policyChangeOf(r: StorageRegionLive, retentionDays: number, accountWillBeCreated: boolean): RegionWork["policy"] {
  const summary = `rule ${KUBE_AUDIT_RULE_NAME}: delete ${KUBE_AUDIT_PREFIX} blobs ${retentionDays} days after their last write`;
  if (accountWillBeCreated || r.policy === null) return { action: "create", details: [summary] };
  const rule = r.policy.find((x) => x.name === KUBE_AUDIT_RULE_NAME);
  const others = r.policy.filter((x) => x.name !== KUBE_AUDIT_RULE_NAME).length;
  const keep = others > 0 ? [`keeps the account's ${others} other rule${others === 1 ? "" : "s"}`] : [];
  if (!rule) return { action: "update", details: [`+${summary}`, ...keep] };
  const details: string[] = [];
  if (!rule.enabled) details.push("enabled: false → true");
  if (rule.deleteAfterDays !== retentionDays) details.push(`delete after: ${rule.deleteAfterDays ?? "never"} → ${retentionDays} days`);
  if (rule.prefixMatch.length !== 1 || rule.prefixMatch[0] !== KUBE_AUDIT_PREFIX)
    details.push(`prefixMatch: ${rule.prefixMatch.join(", ") || "none"} → ${KUBE_AUDIT_PREFIX}`);
  if (!rule.blobTypes.includes("appendBlob") || !rule.blobTypes.includes("blockBlob"))
    details.push(`blobTypes: ${rule.blobTypes.join(", ") || "none"} → appendBlob, blockBlob`);
  return details.length ? { action: "update", details: [...details, ...keep] } : null;
}

function regionWork(config: RunConfig, r: StorageRegionLive): RegionWork {
  const blocker = blockerOf(config, r);
  const createAccount = !r.account;
  const a = r.account;
  return {
    blocker,
    createGroup: !r.resourceGroupExists && r.choice.createResourceGroup,
    createAccount,
    securityChanges: a ? securityChangesOf(a) : [],
    network: a ? networkChangeOf(config, r, a) : null,
    networkNote: a
      ? `network rules: left as they are (${describeRules(a.networkRules)}); restricting was not chosen`
      : config.options.restrictNetwork
        ? `network rules: deny by default, allow ${config.vendor.egressIps.map(bareIp).join(", ")}, bypass AzureServices`
        : "network rules: open to all networks (restricting was not chosen); data access still needs keys or Entra ID",
    policy: policyChangeOf(r, config.options.retentionDays, createAccount),
  };
}

function registerWhy(ns: StorageProviderNamespace): string {
  return ns === "Microsoft.Storage"
    ? "Storage accounts can only be created and managed in a subscription registered for Microsoft.Storage"
    : "Diagnostic settings need Microsoft.Insights registered in the subscription (else Azure answers 409 'not registered to use microsoft.insights')";
}

function planProviders(ctx: StepContext, live: StorageLive): PlannedChange[] {
  return live.providers.map((p) => ({
    stepId: STEP_ID,
    key: keys.register(p.subscriptionId, p.namespace),
    action: p.registered ? "no-change" : "register",
    resourceType: "Resource provider",
    resource: `${p.namespace} in ${subscriptionName(ctx.config, p.subscriptionId)}`,
    why: p.registered ? `Already registered. ${registerWhy(p.namespace)}` : registerWhy(p.namespace),
    ...(p.registered ? {} : { details: [`registrationState: ${p.state} → Registered`] }),
  }));
}

function planRegion(config: RunConfig, r: StorageRegionLive, groupPlanned: boolean): PlannedChange[] {
  const c = r.choice;
  const w = regionWork(config, r);
  const lines: PlannedChange[] = [];
  const base = { stepId: STEP_ID } as const;
  const sub = subscriptionName(config, c.subscriptionId);
  if (!groupPlanned) {
    lines.push({
      ...base,
      key: keys.resourceGroup(c),
      action: w.createGroup ? "create" : "no-change",
      resourceType: "Resource group",
      resource: `${c.resourceGroup} (${sub})`,
      why: w.createGroup
        ? `Holds the audit-log storage account for ${c.region}`
        : r.resourceGroupExists
          ? `Already exists; holds the audit-log storage account for ${c.region}`
          : "Does not exist, and creating it was not chosen",
      ...(w.createGroup ? { details: [`location: ${c.region}`, tagsDetail(config)] } : {}),
    });
  }
  const account = {
    ...base,
    key: keys.account(r.accountId),
    resourceType: "Storage account",
    resource: `${c.accountName} (${c.resourceGroup})`,
  };
  // With restriction chosen the firewall has its own line; without it, the account line says the rules stay as they are.
  const networkNote = w.network || config.options.restrictNetwork ? [] : [w.networkNote];
  if (w.blocker) {
    lines.push({ ...account, action: c.adopt ? "adopt" : "create", why: w.blocker.message, details: [`Blocked: ${w.blocker.message}`] });
    return lines;
  }
  if (w.createAccount) {
    lines.push({
      ...account,
      action: "create",
      why: `Azure Monitor requires the log destination in the cluster's region (${c.region})`,
      details: [
        `location: ${c.region}`,
        "kind: StorageV2, sku: Standard_LRS, hierarchical namespace: off",
        "supportsHttpsTrafficOnly: true, minimumTlsVersion: TLS1_2",
        "allowBlobPublicAccess: false, allowCrossTenantReplication: false",
        w.networkNote,
        tagsDetail(config),
        ...(r.nameDeferred
          ? [`name ${c.accountName}: checked right after Microsoft.Storage is registered (Azure can't check names before)`]
          : []),
      ],
    });
  } else if (w.securityChanges.length) {
    lines.push({
      ...account,
      action: "update",
      why: `${c.adopt ? "Adopting your account: " : ""}the account must meet the secure baseline before it receives audit logs`,
      details: [...w.securityChanges, ...networkNote],
    });
  } else {
    lines.push({
      ...account,
      action: c.adopt ? "adopt" : "no-change",
      why: c.adopt
        ? `You chose this existing account; it is in ${c.region}, where the clusters are, and already meets the secure baseline`
        : `Already holds ${c.region}'s audit logs with the secure baseline`,
      ...(networkNote.length ? { details: networkNote } : {}),
    });
  }
  if (w.network) {
    lines.push({
      ...base,
      key: keys.network(r.accountId),
      action: "update",
      resourceType: "Storage firewall",
      resource: c.accountName,
      why: w.network.why,
      details: w.network.details,
    });
  } else if (!w.createAccount && config.options.restrictNetwork) {
    lines.push({
      ...base,
      key: keys.network(r.accountId),
      action: "no-change",
      resourceType: "Storage firewall",
      resource: c.accountName,
      why: "Already limited to the vendor's egress IPs, with the AzureServices bypass Azure Monitor needs",
    });
  }
  const retentionWhy = `Deletes kube-audit logs after ${config.options.retentionDays} days (diagnostic-settings retention is retired; lifecycle management replaces it)`;
  lines.push({
    ...base,
    key: keys.lifecycle(r.accountId),
    action: w.policy?.action ?? "no-change",
    resourceType: "Lifecycle policy",
    resource: `${c.accountName}/default`,
    why: w.policy ? retentionWhy : `Already ${retentionWhy.charAt(0).toLowerCase()}${retentionWhy.slice(1)}`,
    ...(w.policy ? { details: w.policy.details } : {}),
  });
  return lines;
}

/** Map with bounded parallelism, let every item finish, then throw the first failure (no write is left running unseen). */
async function mapBoundedSettled<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const settled = await mapBounded(items, limit, async (item) => {
    try {
      return { ok: true as const, value: await fn(item) };
    } catch (error) {
      return { ok: false as const, error };
    }
  });
  const out: R[] = [];
  for (const s of settled) {
    if (!s.ok) throw s.error;
    out.push(s.value);
  }
  return out;
}

/** Which involved subscriptions can answer for Microsoft.Storage now: read once per subscription, shared by providers and regions. */
interface StorageRegistrations {
  registered(sub: string): Promise<boolean>;
  /** Every involved subscription registered for Microsoft.Storage. */
  anyRegistered(): Promise<string[]>;
}

type Settled<T> = { value: T } | { error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function valueOf<T>(settled: Settled<T>): T {
  if ("error" in settled) throw settled.error;
  return settled.value;
}

async function readRegion(
  ctx: StepContext,
  choice: StorageChoice,
  groupOf: (sub: string, rg: string) => Promise<unknown>,
  storage: StorageRegistrations,
): Promise<StorageRegionLive> {
  const { subscriptionId: sub, resourceGroup: rg, accountName: name } = choice;
  // One round: the registration, the group, the account and the name are read side by side. The account GET and the
  // name check are speculative where the subscription turns out unregistered (Azure answers them 409/404 there): their
  // answers are then ignored, since such a subscription holds no account (Azure refuses to unregister while any exists).
  const [registered, group, accountRead, nameRead] = await Promise.all([
    storage.registered(sub),
    groupOf(sub, rg),
    settle(getStorageAccount(ctx.arm, sub, rg, name)),
    choice.adopt ? null : settle(checkStorageAccountName(ctx.arm, sub, name)),
  ]);
  const account = registered ? valueOf(accountRead) : null;
  // checkNameAvailability says "AlreadyExists" for the customer's own account too, so its answer counts only when the GET found nothing.
  // Names are global: any registered subscription of the run can answer; none registered defers the check to apply.
  const asker = account || choice.adopt ? undefined : registered ? sub : (await storage.anyRegistered())[0];
  const nameCheck = !asker ? null : asker === sub && nameRead ? valueOf(nameRead) : await checkStorageAccountName(ctx.arm, asker, name);
  const nameDeferred = !account && !choice.adopt && !asker;
  const policyRules = account ? await getManagementPolicyRules(ctx.arm, sub, rg, name) : null;
  return {
    choice,
    accountId: storageAccountIdOf(choice),
    resourceGroupExists: group !== null,
    account,
    nameCheck,
    ...(nameDeferred ? { nameDeferred } : {}),
    policy: policyRules?.map(toLifecycleRule) ?? null,
    policyRules,
  };
}

/** The names Azure could not check before Microsoft.Storage was registered, checked now: a taken one stops the step before any group or account is written. */
async function checkDeferredNames(ctx: StepContext, regions: readonly StorageRegionLive[]): Promise<void> {
  const deferred = regions.filter((r) => r.nameDeferred && !r.account);
  const checks = await mapBoundedSettled(deferred, READ_CONCURRENCY, async (r) => ({
    r,
    check: await checkStorageAccountName(ctx.arm, r.choice.subscriptionId, r.choice.accountName),
  }));
  // The customer's own account answers "AlreadyExists" too: a name found in the chosen group is fine (the create adopts it on conflict).
  const refused: { r: StorageRegionLive; check: StorageNameCheck }[] = [];
  for (const { r, check } of checks) {
    if (check.available) continue;
    const own = await getStorageAccount(ctx.arm, r.choice.subscriptionId, r.choice.resourceGroup, r.choice.accountName);
    if (!own) refused.push({ r, check });
  }
  const first = refused[0];
  if (!first) return;
  throw new AzureOperationError(
    first.check.reason === "invalid" ? "name_invalid" : "name_taken",
    refused
      .map(
        ({ r }) =>
          `The storage account name ${r.choice.accountName} (${r.choice.region}) turned out to be taken by another Azure storage account: Azure could check it only once Microsoft.Storage was registered, which this step has now done.`,
      )
      .join(" ") + " Start a new onboarding and choose another name: the form checks names live now.",
  );
}

/**
 * Create the account; a name conflict is success only when a GET finds the account in the chosen group and region.
 * `created`: this call's PUT made it (so it has no lifecycle policy yet); false when the conflict found it.
 */
async function createAccount(ctx: StepContext, c: StorageChoice): Promise<{ account: StorageAccountInfo; created: boolean }> {
  const allowedIps = ctx.config.options.restrictNetwork ? ctx.config.vendor.egressIps.map(bareIp) : undefined;
  try {
    const account = await createStorageAccount(ctx.arm, c.subscriptionId, c.resourceGroup, {
      name: c.accountName,
      location: c.region,
      tags: creationTags(ctx.config.options),
      ...(allowedIps ? { allowedIps } : {}),
    });
    return { account, created: true };
  } catch (error) {
    if (
      error instanceof AzureOperationError &&
      (error.code === "name_taken" || error.code === "already_exists" || error.code === "conflict")
    ) {
      const found = await getStorageAccount(ctx.arm, c.subscriptionId, c.resourceGroup, c.accountName);
      if (found && normalizeRegion(found.location) === normalizeRegion(c.region)) return { account: found, created: false };
    }
    throw error;
  }
}

async function applyRegion(ctx: StepContext, r: StorageRegionLive): Promise<StorageAccountOutput> {
  const c = r.choice;
  const w = regionWork(ctx.config, r);
  let account = r.account;
  // The policy as this execution knows it: read with the account, or none on an account this PUT just made.
  let policyRules: ManagementPolicyRule[] | undefined = account
    ? r.policyRules === undefined
      ? undefined
      : (r.policyRules ?? [])
    : undefined;
  if (!account) {
    const made = await ctx.write(
      { key: keys.account(r.accountId), kind: "create", target: `storage account ${c.accountName}` },
      () => createAccount(ctx, c),
      (a) => a.account.id,
    );
    account = made.account;
    if (made.created) policyRules = [];
  } else if (w.securityChanges.length) {
    const minTls = account.minTls === "TLS1_3" ? "TLS1_3" : "TLS1_2";
    account = await ctx.write(
      { key: keys.account(r.accountId), kind: "update", target: `storage account ${c.accountName}` },
      () => updateStorageAccountSecurity(ctx.arm, c.subscriptionId, c.resourceGroup, c.accountName, minTls),
      (a) => a.id,
    );
  }
  const network = w.network;
  if (network) {
    account = await ctx.write(
      { key: keys.network(r.accountId), kind: "update", target: `network rules of ${c.accountName}` },
      () => updateStorageNetworkRules(ctx.arm, c.subscriptionId, c.resourceGroup, c.accountName, network.ips),
      (a) => a.id,
    );
  }
  if (w.policy) {
    await ctx.write(
      { key: keys.lifecycle(r.accountId), kind: w.policy.action, target: `lifecycle policy of ${c.accountName}` },
      () => putManagementPolicy(ctx.arm, c.subscriptionId, c.resourceGroup, c.accountName, ctx.config.options.retentionDays, policyRules),
      () => `${r.accountId}/managementPolicies/default`,
    );
  }
  return {
    region: c.region,
    subscriptionId: c.subscriptionId,
    resourceGroup: c.resourceGroup,
    name: c.accountName,
    id: account.id || r.accountId,
    // The public-cloud endpoint is the fallback only: sovereign clouds and the simulator report their own.
    blobEndpoint: account.blobEndpoint ?? `https://${c.accountName}.blob.core.windows.net/`,
    adopted: c.adopt,
  };
}

async function verifyAccount(ctx: StepContext, out: StorageAccountOutput): Promise<{ failures: string[]; check: string }> {
  const { config } = ctx;
  // The policy is read beside the account (one round instead of two); its error counts only when the account exists.
  const policyRead = settle(getManagementPolicy(ctx.arm, out.subscriptionId, out.resourceGroup, out.name));
  const a = await getStorageAccount(ctx.arm, out.subscriptionId, out.resourceGroup, out.name);
  if (!a) return { failures: [`Storage account ${out.name} no longer exists in resource group ${out.resourceGroup}.`], check: "" };
  const f: string[] = [];
  const n = out.name;
  if (normalizeRegion(a.location) !== normalizeRegion(out.region)) f.push(`${n} is in ${a.location}, not ${out.region}.`);
  if (a.provisioningState !== "Succeeded") f.push(`${n} is still ${a.provisioningState}.`);
  if (!a.httpsOnly) f.push(`${n} accepts plain HTTP.`);
  if (!strongTls(a.minTls)) f.push(`${n} accepts TLS older than 1.2.`);
  if (a.allowBlobPublicAccess) f.push(`${n} allows anonymous public blob access.`);
  if (a.allowCrossTenantReplication) f.push(`${n} allows cross-tenant replication.`);
  if (a.isHnsEnabled) f.push(`${n} has a hierarchical namespace, which diagnostic settings can't write to.`);
  if (!out.adopted && a.kind !== "StorageV2") f.push(`${n} is ${a.kind}, not StorageV2.`);
  const rules = a.networkRules;
  if (rules.defaultAction === "Deny" && !hasAzureServicesBypass(rules.bypass))
    f.push(`${n}'s firewall doesn't let trusted Azure services (Azure Monitor) in, so no logs can arrive.`);
  if (config.options.restrictNetwork) {
    if (rules.defaultAction !== "Deny") f.push(`${n} is open to all networks, not limited to the vendor's IPs.`);
    const have = rules.ipRules.map(bareIp);
    const missing = config.vendor.egressIps.map(bareIp).filter((ip) => !have.includes(ip));
    if (missing.length) f.push(`${n}'s firewall doesn't allow the vendor's IP${missing.length === 1 ? "" : "s"} ${missing.join(", ")}.`);
  }
  const rule = valueOf(await policyRead)?.find((r) => r.name === KUBE_AUDIT_RULE_NAME);
  if (!rule) f.push(`${n} has no lifecycle rule deleting old kube-audit logs.`);
  else if (!rule.enabled || rule.deleteAfterDays !== config.options.retentionDays || !rule.prefixMatch.includes(KUBE_AUDIT_PREFIX)) {
    f.push(`${n}'s lifecycle rule doesn't delete ${KUBE_AUDIT_PREFIX} blobs after ${config.options.retentionDays} days.`);
  }
  const check = `${n} (${out.region}): HTTPS only, TLS ${a.minTls}, no public blob access, no cross-tenant replication, ${describeRules(rules)}, kube-audit deleted after ${config.options.retentionDays} days`;
  return { failures: f, check };
}

const ACCOUNT_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)$/i;

/** Subscription, group and name of a storage account id. */
export function parseAccountId(id: string): { subscriptionId: string; resourceGroup: string; name: string } | null {
  const m = ACCOUNT_ID.exec(id);
  return m?.[1] && m[2] && m[3] ? { subscriptionId: m[1], resourceGroup: m[2], name: m[3] } : null;
}

/** The group holds resources the run didn't create: it is kept. */
export class GroupNotEmptyError extends Error {
  constructor(
    readonly group: string,
    readonly names: string[],
  ) {
    super(`Resource group ${group} still holds ${names.join(", ")}, which this run didn't create, so it is kept.`);
    this.name = "GroupNotEmptyError";
  }
}

const REMOVABLE: Partial<Record<StorageKey["kind"], string>> = {
  lifecycle: "lifecycle-policy",
  account: "storage-account",
  "resource-group": "resource-group",
};

/** A present resource read by `read` (null: gone) and removed by `remove`. */
function liveOf(read: () => Promise<unknown>, remove: () => Promise<void>): LiveResource {
  return { remove, exists: async () => (await read()) !== null };
}

async function presentIf(read: () => Promise<unknown>, remove: () => Promise<void>): Promise<Resolution> {
  return (await read()) === null ? { state: "absent" } : { state: "present", live: liveOf(read, remove) };
}

const storageRemovalSpec: RemovalSpec = {
  categories: ["lifecycle-policy", "storage-account", "resource-group"],
  categoryOf: (key) => {
    const k = storageKeys.parse(key);
    return (k && REMOVABLE[k.kind]) ?? null;
  },
  describe(w, category) {
    const k = storageKeys.parse(w.key);
    const value = splitKey(w.key)?.value ?? "";
    if (category === "resource-group")
      return { resourceType: "Resource group", resource: k?.kind === "resource-group" ? k.resourceGroup : value };
    const name = k && "accountId" in k ? (parseAccountId(k.accountId)?.name ?? value) : value;
    return { resourceType: category === "lifecycle-policy" ? "Lifecycle policy" : "Storage account", resource: name };
  },
  keptType: (key) => {
    const kind = storageKeys.parse(key)?.kind;
    return kind === "register" ? "Resource provider registration" : kind === "network" ? "Storage firewall" : "Change";
  },
  keptReason: (key) =>
    storageKeys.parse(key)?.kind === "register"
      ? "Resource provider registrations are subscription-wide and other resources may rely on them."
      : undefined,
  why: {
    "lifecycle-policy": "The kube-audit retention rule this run added to an account it didn't create.",
    "storage-account":
      "The audit storage account this run created. The kube-audit logs stored in it are deleted with it and can't be recovered.",
    "resource-group": "The resource group this run created; it is empty once the storage accounts are removed.",
  },
  async resolve(w, _category, ctx) {
    const k = storageKeys.parse(w.key);
    if (k?.kind === "resource-group") {
      const { subscriptionId: sub, resourceGroup: name } = k;
      const list = () => listResourceGroupResources(ctx.arm, sub, name);
      return presentIf(list, async () => {
        // Deleting a group deletes everything in it: only ever an empty one.
        const inside = await list();
        if (inside === null) return;
        if (inside.length > 0)
          throw new GroupNotEmptyError(
            name,
            inside.map((r) => r.name),
          );
        await deleteResourceGroup(ctx.arm, sub, name);
      });
    }
    const a = k && "accountId" in k ? parseAccountId(k.accountId) : null;
    if (!a) return { state: "absent" };
    if (k?.kind === "lifecycle")
      return presentIf(
        () => absentOn404(() => getManagementPolicy(ctx.arm, a.subscriptionId, a.resourceGroup, a.name)),
        () => deleteManagementPolicy(ctx.arm, a.subscriptionId, a.resourceGroup, a.name),
      );
    return presentIf(
      () => getStorageAccount(ctx.arm, a.subscriptionId, a.resourceGroup, a.name),
      () => deleteStorageAccount(ctx.arm, a.subscriptionId, a.resourceGroup, a.name),
    );
  },
};

// Accounts go before their group, whose removal is decided once the accounts it holds are known; a lifecycle policy on an
// account the run created goes with the account, and the run's changes on an account it removes are no line of their own.
async function planStorageRemoval(writes: readonly LoggedWrite[], ctx: RemovalContext): Promise<StepRemovalPlan> {
  const spec = storageRemovalSpec;
  const byKey = new Map(writes.map((w) => [w.key, w]));
  const lines: RemovalLine[] = [];
  const live = new Map<string, LiveResource>();
  const accountsRemoved = new Set<string>();
  const removable = removableInOrder(spec, writes);
  for (const { w, category } of removable) {
    const k = storageKeys.parse(w.key);
    const account = k?.kind === "lifecycle" ? byKey.get(storageKeys.account(k.accountId)) : undefined;
    if (account?.provenance === "created" || account?.provenance === "uncertain") continue;
    if (category === "resource-group") continue;
    const d = await decideRemoval(spec, w, category, ctx);
    if (!d) continue;
    lines.push(d.line);
    if (d.live) {
      live.set(w.key, d.live);
      if (k?.kind === "account") accountsRemoved.add(k.accountId.toLowerCase());
    }
  }

  for (const { w } of removable.filter((x) => x.category === "resource-group")) {
    const k = storageKeys.parse(w.key);
    const d = spec.describe(w, "resource-group");
    const inside = k?.kind === "resource-group" ? await listResourceGroupResources(ctx.arm, k.subscriptionId, k.resourceGroup) : null;
    if (inside === null) {
      if (w.provenance === "created") lines.push({ key: w.key, category: "resource-group", ...d, action: "gone", why: ALREADY_GONE });
      continue;
    }
    const others = inside.filter((r) => !accountsRemoved.has(r.id.toLowerCase())).map((r) => r.name);
    if (others.length > 0) {
      const why = `It also holds ${others.join(", ")}, which this run didn't create, so it is kept.`;
      lines.push({ key: w.key, category: "resource-group", ...d, action: "keep", why });
      continue;
    }
    const r = await spec.resolve(w, "resource-group", ctx);
    if (r.state !== "present") continue;
    live.set(w.key, r.live);
    const why = (spec.why["resource-group"] ?? "") + (w.provenance === "uncertain" ? UNCERTAIN_NOTE : "");
    lines.push({ key: w.key, category: "resource-group", ...d, action: "remove", why });
  }

  for (const w of writes.filter((x) => !isRemovable(spec, x))) {
    const k = storageKeys.parse(w.key);
    // Updates on an account: shown on the account's own line below when it was adopted.
    if ((k?.kind === "network" || k?.kind === "lifecycle") && parseAccountId(k.accountId) && accountsRemoved.has(k.accountId.toLowerCase()))
      continue;
    lines.push(keptLine(spec, w));
  }

  // Adopted accounts may have no logged write at all (nothing needed changing): they are still listed as kept.
  for (const s of ctx.config.storage.filter((x) => x.adopt)) {
    const key = storageKeys.account(storageAccountIdOf(s));
    if (lines.some((l) => l.key === key)) continue;
    lines.push({
      key,
      category: "storage-account",
      resourceType: "Storage account",
      resource: s.accountName,
      action: "keep",
      why: "It existed before this run, which adopted it; it and its logs stay.",
    });
  }
  return { lines, live };
}

/** Removes what the storage step created: lifecycle policies on adopted accounts, the run's accounts, then empty groups. */
export const storageRemoval: StepRemoval = {
  categories: storageRemovalSpec.categories,
  plan: planStorageRemoval,
  resolve: (w, ctx) => resolveWrite(storageRemovalSpec, w, ctx),
};

/** What the storage step writes, for the change-approval exports. */
export interface StorageDescription {
  providers: DescribedResource<{ subscriptionId: string; namespace: string }>[];
  resourceGroups: DescribedResource<{ subscriptionId: string; location: string }>[];
  accounts: DescribedResource<{
    region: string;
    subscriptionId: string;
    resourceGroup: string;
    id: string;
    adopt: boolean;
    /** Log keys of the firewall update and the retention rule on the account. */
    networkKey: string;
    lifecycleKey: string;
    /** IP rules the planned firewall update removes (the plan's "ipRules: -…" details). */
    removedIps: string[];
  }>[];
  /** The create body's secure properties, as the step sends them. */
  baseline: {
    kind: string;
    sku: string;
    minimumTlsVersion: string;
    httpsOnly: boolean;
    allowBlobPublicAccess: boolean;
    allowCrossTenantReplication: boolean;
  };
  /** null: open to all networks; else deny by default, these IPs, AzureServices bypass. */
  allowedIps: string[] | null;
  /** Tags on the resource groups and accounts the step creates. */
  tags: { name: string; value: string }[];
  lifecycleRule: { name: string; prefix: string; blobTypes: string[]; deleteAfterDays: number };
}

/** The provider registrations, groups, accounts (with their create body) and retention rule the step writes for a run. */
export function describeStorage({ config, planned }: DescribeInput): StorageDescription {
  const plannedLine = (key: string) => [...planned].reverse().find((c) => c.key.toLowerCase() === key.toLowerCase());
  // One per subscription, case-insensitively; the last spelling seen names it.
  const subs = [
    ...new Map(
      [...config.storage.map((s) => s.subscriptionId), ...config.clusters.map((c) => c.subscriptionId)].map((id) => [id.toLowerCase(), id]),
    ).values(),
  ];
  const groups = new Map<string, StorageDescription["resourceGroups"][number]>();
  for (const s of config.storage) {
    const k = `${s.subscriptionId}/${s.resourceGroup}`.toLowerCase();
    if (!groups.has(k))
      groups.set(k, {
        key: storageKeys.resourceGroup(s),
        resourceType: "Microsoft.Resources/resourceGroups",
        name: s.resourceGroup,
        scope: `/subscriptions/${s.subscriptionId}`,
        properties: { subscriptionId: s.subscriptionId, location: s.region },
      });
  }
  const requestedIps = config.options.restrictNetwork ? config.vendor.egressIps.map(bareIp) : null;
  // The body the step sends: the description's properties come from it, not from a second list.
  const body = storageAccountCreateParameters({ name: "x", location: "x", ...(requestedIps ? { allowedIps: requestedIps } : {}) });
  const rule = kubeAuditRetentionRule(config.options.retentionDays);
  return {
    providers: subs.flatMap((sub) =>
      STORAGE_PROVIDER_NAMESPACES.map((ns) => ({
        key: storageKeys.register(sub, ns),
        resourceType: "Microsoft.Resources/providers",
        name: ns,
        scope: `/subscriptions/${sub}`,
        properties: { subscriptionId: sub, namespace: ns },
      })),
    ),
    resourceGroups: [...groups.values()],
    accounts: config.storage.map((s) => {
      const id = storageAccountIdOf(s);
      return {
        key: storageKeys.account(id),
        resourceType: "Microsoft.Storage/storageAccounts",
        name: s.accountName,
        scope: `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}`,
        properties: {
          region: s.region,
          subscriptionId: s.subscriptionId,
          resourceGroup: s.resourceGroup,
          id,
          adopt: s.adopt,
          networkKey: storageKeys.network(id),
          lifecycleKey: storageKeys.lifecycle(id),
          removedIps: (plannedLine(storageKeys.network(id))?.details ?? [])
            .filter((d) => d.startsWith("ipRules: -"))
            .flatMap((d) => d.slice("ipRules: ".length).split(", "))
            .map((ip) => ip.replace(/^-/, "")),
        },
      };
    }),
    baseline: {
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
  };
}

/** Step 1: storage accounts for the kube-audit logs, one per AKS region. */
export const storageStep: StepModule<StorageLive, StorageOutput> = {
  id: STEP_ID,
  removal: storageRemoval,

  async read(ctx) {
    const pairs = involvedSubscriptions(ctx.config).flatMap((subscriptionId) =>
      STORAGE_PROVIDER_NAMESPACES.map((namespace) => ({ subscriptionId, namespace })),
    );
    // Regions usually share one resource group: one GET per group, whichever region asks first.
    const groups = new Map<string, Promise<unknown>>();
    const groupOf = (sub: string, rg: string) => {
      const key = `${sub}/${rg}`.toLowerCase();
      const known = groups.get(key) ?? getResourceGroup(ctx.arm, sub, rg);
      groups.set(key, known);
      return known;
    };
    // One registration read per subscription and namespace, whichever asks first (providers' plan lines or a region's reads).
    const registrations = new Map<string, Promise<ProviderLive>>();
    const registration = (subscriptionId: string, namespace: StorageProviderNamespace) => {
      const key = `${subscriptionId}/${namespace}`.toLowerCase();
      const known =
        registrations.get(key) ??
        getProviderRegistration(ctx.arm, subscriptionId, namespace).then((p): ProviderLive => ({
          subscriptionId,
          namespace,
          state: p.state,
          registered: p.registered,
        }));
      registrations.set(key, known);
      return known;
    };
    const involved = involvedSubscriptions(ctx.config);
    const storage: StorageRegistrations = {
      registered: async (sub) => (await registration(sub, "Microsoft.Storage")).registered,
      anyRegistered: async () =>
        (await mapBoundedSettled(involved, READ_CONCURRENCY, (sub) => registration(sub, "Microsoft.Storage")))
          .filter((p) => p.registered)
          .map((p) => p.subscriptionId),
    };
    // Providers and regions are independent: read them side by side (two bounded pools).
    const [providers, regions] = await Promise.all([
      mapBoundedSettled(pairs, READ_CONCURRENCY, ({ subscriptionId, namespace }) => registration(subscriptionId, namespace)),
      mapBoundedSettled(ctx.config.storage, READ_CONCURRENCY, (choice) => readRegion(ctx, choice, groupOf, storage)),
    ]);
    return { providers, regions };
  },

  plan(ctx, live) {
    // Regions often share one resource group: it gets one line.
    const groups = new Set<string>();
    const regionLines = live.regions.flatMap((r) => {
      const key = keys.resourceGroup(r.choice).toLowerCase();
      const planned = groups.has(key);
      groups.add(key);
      return planRegion(ctx.config, r, planned);
    });
    return [...planProviders(ctx, live), ...regionLines];
  },

  async apply(ctx, live) {
    // Refuse before any write: a taken name or a wrong adopted account needs the admin's choice, not a retry.
    const blockers = live.regions.map((r) => blockerOf(ctx.config, r)).filter((b): b is Blocker => b !== null);
    const first = blockers[0];
    if (first) throw new AzureOperationError(first.code, blockers.map((b) => b.message).join(" "));

    const unregistered = live.providers.filter((p) => !p.registered);
    await mapBoundedSettled(unregistered, WRITE_CONCURRENCY, (p) =>
      ctx.write(
        {
          key: keys.register(p.subscriptionId, p.namespace),
          kind: "register",
          target: `${p.namespace} in ${subscriptionName(ctx.config, p.subscriptionId)}`,
        },
        () => registerProvider(ctx.arm, p.subscriptionId, p.namespace),
        () => `/subscriptions/${p.subscriptionId}/providers/${p.namespace}`,
      ),
    );
    await checkDeferredNames(ctx, live.regions);

    const groups = new Map<string, StorageChoice>();
    for (const r of live.regions) {
      if (regionWork(ctx.config, r).createGroup && !groups.has(keys.resourceGroup(r.choice).toLowerCase()))
        groups.set(keys.resourceGroup(r.choice).toLowerCase(), r.choice);
    }
    await mapBoundedSettled([...groups.values()], WRITE_CONCURRENCY, (c) =>
      ctx.write(
        { key: keys.resourceGroup(c), kind: "create", target: `resource group ${c.resourceGroup}` },
        // createGroup means this execution's read found no group: no second GET before the PUT.
        () =>
          ensureResourceGroup(ctx.arm, c.subscriptionId, c.resourceGroup, c.region, creationTags(ctx.config.options), {
            knownAbsent: true,
          }),
        (g) => g.id,
      ),
    );

    const total = live.regions.length;
    let done = 0;
    await ctx.progress({ done, total, label: `Storage account 0 of ${total}` });
    const accounts = await mapBoundedSettled(live.regions, WRITE_CONCURRENCY, async (r) => {
      const out = await applyRegion(ctx, r);
      done += 1;
      await ctx.progress({ done, total, label: `Storage account ${done} of ${total}` });
      return out;
    });
    return { accounts };
  },

  async verify(ctx, out): Promise<VerifyResult> {
    const results = await mapBoundedSettled(out.accounts, READ_CONCURRENCY, (a) => verifyAccount(ctx, a));
    const regions = new Set(out.accounts.map((a) => normalizeRegion(a.region)));
    const uncovered = ctx.config.clusters
      .filter((c) => !regions.has(normalizeRegion(c.location)))
      .map((c) => `No storage account for ${c.name}'s region ${c.location}.`);
    const failures = [...uncovered, ...results.flatMap((r) => r.failures)];
    if (failures.length) return { ok: false, reason: failures.join(" ") };
    return { ok: true, checks: results.map((r) => r.check) };
  },
};
