// Resource group deletion (long-running, like Azure) and the list of resources in a group.
import crypto from "node:crypto";
import type { ArmResource, SimResponse } from "../contract";
import type { SimState } from "../state";
import type { ArmContext } from "./context";
import { API_VERSIONS, armError, checkApiVersion, list, methodNotAllowed, resourceGroupNotFound } from "./http";
import { authorize } from "./rbac";
import { clone, getResourceGroup, settle, startLro, STORAGE_TYPE } from "./world";

const DEFAULT_DELETE_MS = 200;

function operationUrl(state: SimState, sub: string, opId: string, apiVersion: string): string {
  return `${state.baseUrl}/subscriptions/${sub}/operationresults/${opId}?api-version=${apiVersion}`;
}

/**
 * DELETE /subscriptions/{s}/resourcegroups/{rg}: Azure answers 202 with Location (and Retry-After), the group reads as
 * provisioningState Deleting, and everything in it is deleted with it; polling Location gives 202 until done, then 200.
 */
export function deleteResourceGroup(ctx: ArmContext, sub: string, rgName: string): SimResponse {
  const { state, caller } = ctx;
  const scope = `/subscriptions/${sub}/resourceGroups/${rgName}`;
  const denied = authorize(state, caller, "Microsoft.Resources/subscriptions/resourceGroups/delete", scope);
  if (denied) return denied;
  const existing = getResourceGroup(state, sub, rgName);
  if (!existing) return resourceGroupNotFound(rgName);
  const opId = `rgdelete-${crypto.randomUUID()}`;
  const duration = state.latency.lroMs.resourceGroupDelete ?? DEFAULT_DELETE_MS;
  existing.properties.provisioningState = "Deleting";
  startLro(state, opId, existing.id, duration);
  return {
    status: 202,
    headers: { Location: operationUrl(state, sub, opId, ctx.apiVersion), "Retry-After": String(Math.max(1, Math.ceil(duration / 1000))) },
  };
}

/** Completes a group deletion whose time has come: the group and every resource under it disappear. */
export function finishResourceGroupDelete(state: SimState, group: ArmResource): void {
  const prefix = `${group.id.toLowerCase()}/`;
  for (const r of [...state.arm.values()]) {
    if (!r.id.toLowerCase().startsWith(prefix)) continue;
    state.deleteArm(r.id);
    if (r.type === STORAGE_TYPE) state.events.emit("storageAccountDeleted", clone(r));
  }
  state.deleteArm(group.id);
}

/** GET /subscriptions/{s}/operationresults/{id}: 202 + Location while the deletion runs, 200 when it is done. */
export function handleOperationResult(ctx: ArmContext, sub: string, opId: string): SimResponse {
  const bad = checkApiVersion(ctx.req, API_VERSIONS.resources);
  if (bad) return bad;
  if (ctx.req.method !== "GET") return methodNotAllowed(ctx.req.method);
  settle(ctx.state);
  const op = ctx.state.lros.get(opId);
  if (!op || !opId.startsWith("rgdelete-") || !op.resourceId.toLowerCase().startsWith(`/subscriptions/${sub.toLowerCase()}/`))
    return armError(404, "NotFound", `The operation '${opId}' could not be found.`);
  if (op.status === "InProgress") {
    const wait = Math.max(1, Math.ceil((op.doneAt - ctx.state.now()) / 1000));
    return { status: 202, headers: { Location: operationUrl(ctx.state, sub, opId, ctx.apiVersion), "Retry-After": String(wait) } };
  }
  return { status: 200 };
}

/** GET /subscriptions/{s}/resourceGroups/{rg}/resources: top-level resources in the group (Resources - List By Resource Group). */
export function listResourcesInGroup(ctx: ArmContext, sub: string, rgName: string): SimResponse {
  const bad = checkApiVersion(ctx.req, API_VERSIONS.resources);
  if (bad) return bad;
  if (ctx.req.method !== "GET") return methodNotAllowed(ctx.req.method);
  const { state, caller } = ctx;
  const scope = `/subscriptions/${sub}/resourceGroups/${rgName}`;
  const denied = authorize(state, caller, "Microsoft.Resources/subscriptions/resourceGroups/resources/read", scope);
  if (denied) return denied;
  const group = getResourceGroup(state, sub, rgName);
  if (!group) return resourceGroupNotFound(rgName);
  const prefix = `${group.id.toLowerCase()}/providers/`;
  // Top level only: {group}/providers/{ns}/{type}/{name} — child and extension resources (locks, assignments) are not listed.
  const resources = [...state.arm.values()].filter(
    (r) =>
      r.id.toLowerCase().startsWith(prefix) &&
      r.id.slice(prefix.length).split("/").length === 3 &&
      !r.type.toLowerCase().startsWith("microsoft.authorization/"),
  );
  return list(resources.map((r) => ({ id: r.id, name: r.name, type: r.type, location: r.location, ...(r.tags ? { tags: r.tags } : {}) })));
}
