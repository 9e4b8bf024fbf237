// Lookups over the ARM map shared by the resource handlers, and completion of long-running operations.
import type { ArmResource } from "../contract";
import type { SimState } from "../state";
import { finishResourceGroupDelete } from "./resource-group-delete";

export const SUBSCRIPTION_TYPE = "Microsoft.Resources/subscriptions";
export const RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups";
export const PROVIDER_TYPE = "Microsoft.Resources/providers";
export const CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters";
export const STORAGE_TYPE = "Microsoft.Storage/storageAccounts";
export const DIAGNOSTIC_SETTING_TYPE = "Microsoft.Insights/diagnosticSettings";

export const subscriptionId = (id: string): string => `/subscriptions/${id}`;

export function getSubscription(state: SimState, sub: string): ArmResource | undefined {
  const r = state.getArm(subscriptionId(sub));
  return r?.type === SUBSCRIPTION_TYPE ? r : undefined;
}

export function getResourceGroup(state: SimState, sub: string, rg: string): ArmResource | undefined {
  const r = state.getArm(`/subscriptions/${sub}/resourceGroups/${rg}`);
  return r?.type === RESOURCE_GROUP_TYPE ? r : undefined;
}

export function resourcesOfType(state: SimState, type: string, under?: string): ArmResource[] {
  const prefix = under?.toLowerCase();
  return [...state.arm.values()].filter(
    (r) => r.type.toLowerCase() === type.toLowerCase() && (!prefix || r.id.toLowerCase().startsWith(`${prefix}/`)),
  );
}

export function isProviderRegistered(state: SimState, sub: string, ns: string): boolean {
  settle(state);
  const p = state.getArm(`/subscriptions/${sub}/providers/${ns}`);
  return p?.properties.registrationState === "Registered";
}

/** Parts of a resource id: subscription, resource group, provider type path and name. */
export function parseResourceId(id: string): { sub?: string; rg?: string; name?: string } {
  const s = id.split("/").filter(Boolean);
  const out: { sub?: string; rg?: string; name?: string } = {};
  for (let i = 0; i < s.length - 1; i++) {
    const k = s[i]?.toLowerCase();
    if (k === "subscriptions" && !out.sub) out.sub = s[i + 1];
    if (k === "resourcegroups" && !out.rg) out.rg = s[i + 1];
  }
  out.name = s[s.length - 1];
  return out;
}

/** A JSON clone so handlers never hand out live state objects. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const timers = new WeakMap<SimState, Set<ReturnType<typeof setTimeout>>>();

/** Registers a long-running operation and makes sure it completes (and fires its events) even if nobody polls. */
export function startLro(state: SimState, opId: string, resourceId: string, durationMs: number): void {
  state.lros.set(opId, { doneAt: state.now() + durationMs, resourceId, status: "InProgress" });
  const t = setTimeout(() => settle(state), Math.max(0, durationMs) + 5);
  t.unref?.();
  let set = timers.get(state);
  if (!set) timers.set(state, (set = new Set()));
  set.add(t);
}

/** Completes every operation whose time has come: providers become Registered, new storage accounts Succeeded. */
export function settle(state: SimState): void {
  const now = state.now();
  for (const op of state.lros.values()) {
    if (op.status !== "InProgress" || op.doneAt > now) continue;
    op.status = "Succeeded";
    const r = state.getArm(op.resourceId);
    if (!r) continue;
    if (r.type === PROVIDER_TYPE && r.properties.registrationState === "Registering") {
      r.properties.registrationState = "Registered";
    } else if (r.type === RESOURCE_GROUP_TYPE && r.properties.provisioningState === "Deleting") {
      finishResourceGroupDelete(state, r);
    } else if (r.type === STORAGE_TYPE && r.properties.provisioningState !== "Succeeded") {
      r.properties.provisioningState = "Succeeded";
      state.events.emit("storageAccountCreated", clone(r));
    }
  }
}
