// The offboarding plan: what this run created that will be removed, what is kept (adopted, updated, shared), what is gone.
import crypto from "node:crypto";
import type { Operation } from "@/lib/db/operations";
import { OFFBOARDING_STEP_ID } from "@/lib/db/offboardings";
import { storageAccountIdOf } from "@/lib/steps/storage";
import { classifyOperations, categoryOfKey, keyValue, REMOVAL_ORDER, type Candidate, type RemovableCategory } from "./classify";
import { describe, otherResourcesInGroup, parseAccountId, resolve, type LiveContext, type LiveResource } from "./resources";

/** What happens to one thing: removed, kept (not the run's, or not removable), or already gone. */
export type OffboardingAction = "remove" | "keep" | "gone";

/** One line of the plan; never a secret. */
export interface OffboardingItem {
  key: string;
  category: RemovableCategory | null;
  resourceType: string;
  resource: string;
  action: OffboardingAction;
  why: string;
  /** Removed by the removal of another item (the app registration takes its secret and grant with it). */
  removedWith?: "application";
}

/** The plan as shown and confirmed (by hash). */
export interface OffboardingPlan {
  items: OffboardingItem[];
  removeCount: number;
  hash: string;
}

/** The plan, the candidates behind it and the live handles of what is present now. */
export interface PlannedOffboarding {
  plan: OffboardingPlan;
  candidates: Map<string, Candidate>;
  live: Map<string, LiveResource>;
}

const ORDER = new Map<RemovableCategory, number>(REMOVAL_ORDER.map((c, i) => [c, i]));

const WHY: Record<RemovableCategory, string> = {
  "workbench-device": "Workbench stops reading this tenant's audit logs.",
  "role-assignment": "The vendor's access granted by this run.",
  "custom-role":
    "A custom role this run created (read-only AKS, cluster metadata only, or Log Analytics queries); removed once no assignment uses it.",
  consent: "The Log Analytics permission this run granted to the vendor's app.",
  "client-secret": "The client secret this run added to the vendor's app.",
  application: "The vendor's app registration this run created, with its service principal, client secrets and Log Analytics permission.",
  "service-principal":
    "The vendor's service principal this run created (removed with the app registration; removed on its own if it remains).",
  "diagnostic-setting": "Stops sending the cluster's kube-audit logs to the audit storage account.",
  "lifecycle-policy": "The kube-audit retention rule this run added to an account it didn't create.",
  "storage-account":
    "The audit storage account this run created. The kube-audit logs stored in it are deleted with it and can't be recovered.",
  "resource-group": "The resource group this run created; it is empty once the storage accounts are removed.",
};

const UNCERTAIN_NOTE =
  " An attempt of this run was interrupted (or failed) after logging its intent to create it; it exists under the run's deterministic name, so it was most likely created by that attempt and is treated as created.";

function hashOf(items: readonly OffboardingItem[]): string {
  return crypto
    .createHash("sha256")
    .update(JSON.stringify(items.map((i) => [i.key, i.action, i.removedWith ?? ""])))
    .digest("hex");
}

const rank = (i: OffboardingItem) => (i.category === null ? REMOVAL_ORDER.length : (ORDER.get(i.category) ?? REMOVAL_ORDER.length));
const ACTION_RANK: Record<OffboardingAction, number> = { remove: 0, gone: 1, keep: 2 };

/** Reads Azure for every candidate of the run's log and builds the plan. Makes no writes. */
export async function planOffboarding(ctx: LiveContext, operations: readonly Operation[]): Promise<PlannedOffboarding> {
  const candidates = classifyOperations(operations, OFFBOARDING_STEP_ID);
  const byKey = new Map(candidates.map((c) => [c.key, c]));
  const live = new Map<string, LiveResource>();
  const items: OffboardingItem[] = [];
  const removable = candidates
    .filter((c) => c.category !== null && c.provenance !== "kept")
    .sort((a, b) => (ORDER.get(a.category!) ?? 0) - (ORDER.get(b.category!) ?? 0));

  const accountsRemoved = new Set<string>();
  for (const c of removable) {
    const category = c.category as RemovableCategory;
    // A lifecycle policy on an account the run created goes with the account.
    if (category === "lifecycle-policy") {
      const accountKey = `storage.account:${keyValue(c.key).replace(/\/managementPolicies\/default$/i, "")}`;
      if (byKey.get(accountKey)?.provenance === "created" || byKey.get(accountKey)?.provenance === "uncertain") continue;
    }
    if (category === "resource-group") continue; // decided after the accounts
    const r = await resolve(c, ctx);
    const d = describeCandidate(c, category);
    if (r.state === "absent") {
      // Only what the run did create can be "already gone"; an uncertain intent that never materialised is no line at all.
      if (c.provenance === "created") items.push({ key: c.key, category, ...d, action: "gone", why: "Already gone." });
      continue;
    }
    if (r.state === "foreign") {
      items.push({ key: c.key, category, ...d, action: "keep", why: r.reason });
      continue;
    }
    live.set(c.key, r.live);
    if (category === "storage-account") accountsRemoved.add(keyValue(c.key).toLowerCase());
    items.push({ key: c.key, category, ...d, action: "remove", why: WHY[category] + (c.provenance === "uncertain" ? UNCERTAIN_NOTE : "") });
  }

  // The app registration takes its secrets and grants with it.
  if (items.some((i) => i.category === "application" && i.action === "remove")) {
    for (const i of items) {
      if ((i.category === "consent" || i.category === "client-secret" || i.category === "service-principal") && i.action === "remove") {
        i.removedWith = "application";
        i.why = `${WHY[i.category]} Removed together with the app registration.`;
      }
    }
  }

  for (const c of removable.filter((x) => x.category === "resource-group")) {
    const d = describe("resource-group", c.key);
    const others = await otherResourcesInGroup(ctx, c.key, accountsRemoved);
    if (others === null) {
      if (c.provenance === "created") items.push({ key: c.key, category: "resource-group", ...d, action: "gone", why: "Already gone." });
      continue;
    }
    if (others.length > 0) {
      items.push({
        key: c.key,
        category: "resource-group",
        ...d,
        action: "keep",
        why: `It also holds ${others.join(", ")}, which this run didn't create, so it is kept.`,
      });
      continue;
    }
    const r = await resolve(c, ctx);
    if (r.state !== "present") continue;
    live.set(c.key, r.live);
    items.push({
      key: c.key,
      category: "resource-group",
      ...d,
      action: "remove",
      why: WHY["resource-group"] + (c.provenance === "uncertain" ? UNCERTAIN_NOTE : ""),
    });
  }

  for (const c of candidates.filter((x) => x.provenance === "kept")) {
    if (c.key.startsWith("storage.network:") || c.key.startsWith("storage.lifecycle:")) {
      // Updates on an account: shown on the account's own line below when it was adopted.
      const account = parseAccountId(keyValue(c.key).replace(/\/managementPolicies\/default$/i, ""));
      if (
        account &&
        accountsRemoved.has(
          storageAccountIdOf({
            subscriptionId: account.subscriptionId,
            resourceGroup: account.resourceGroup,
            accountName: account.name,
          }).toLowerCase(),
        )
      )
        continue;
    }
    const category = c.category ?? categoryOfKey(c.key) ?? null;
    const d = category ? describe(category, c.key) : { resourceType: keptType(c.key), resource: c.target };
    items.push({ key: c.key, category, ...d, action: "keep", why: c.keptReason ?? "This run did not create it." });
  }

  // Adopted accounts may have no logged write at all (nothing needed changing): they are still listed as kept.
  for (const s of ctx.config.storage.filter((x) => x.adopt)) {
    const key = `storage.account:${storageAccountIdOf(s)}`;
    if (items.some((i) => i.key === key)) continue;
    items.push({
      key,
      category: "storage-account",
      resourceType: "Storage account",
      resource: s.accountName,
      action: "keep",
      why: "It existed before this run, which adopted it; it and its logs stay.",
    });
  }

  items.sort((a, b) => ACTION_RANK[a.action] - ACTION_RANK[b.action] || rank(a) - rank(b));
  const removeCount = items.filter((i) => i.action === "remove").length;
  return { plan: { items, removeCount, hash: hashOf(items) }, candidates: byKey, live };
}

// Role assignments and the custom role read better by the write's own target ("Storage Blob Data Reader at /subscriptions/…/storageAccounts/…").
function describeCandidate(c: Candidate, category: RemovableCategory): { resourceType: string; resource: string } {
  const d = describe(category, c.key);
  if (category === "role-assignment") return { ...d, resource: c.target };
  if (category === "custom-role") return { ...d, resource: c.target.replace(/^Custom role /, "") };
  return d;
}

function keptType(key: string): string {
  if (key.startsWith("storage.register:")) return "Resource provider registration";
  if (key.startsWith("storage.network:")) return "Storage firewall";
  if (key.startsWith("app-registration.log-analytics-service-principal:")) return "Log Analytics API service principal";
  return "Change";
}
