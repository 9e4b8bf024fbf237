// Subscriptions list/get: only subscriptions where the caller holds some role are visible.
import type { ArmResource, SimResponse } from "../contract";
import type { ArmContext } from "./context";
import { API_VERSIONS, checkApiVersion, methodNotAllowed, ok, subscriptionNotFound } from "./http";
import { paged } from "./paging";
import { canSeeSubscription } from "./rbac";
import { getSubscription, resourcesOfType, SUBSCRIPTION_TYPE } from "./world";

export function subscriptionBody(r: ArmResource): Record<string, unknown> {
  return {
    id: r.id,
    authorizationSource: "RoleBased",
    managedByTenants: [],
    subscriptionId: r.name,
    tenantId: r.properties.tenantId,
    displayName: r.properties.displayName,
    state: r.properties.state ?? "Enabled",
    subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "PayAsYouGo_2014-09-01", spendingLimit: "Off" },
  };
}

/** GET /subscriptions and GET /subscriptions/{id}. */
export function handleSubscriptions(ctx: ArmContext): SimResponse {
  const bad = checkApiVersion(ctx.req, API_VERSIONS.subscriptions);
  if (bad) return bad;
  if (ctx.req.method !== "GET") return methodNotAllowed(ctx.req.method);
  const subId = ctx.seg[1];
  if (subId === undefined) {
    const visible = resourcesOfType(ctx.state, SUBSCRIPTION_TYPE).filter((s) => canSeeSubscription(ctx.state, ctx.caller, s.name));
    return paged(ctx, "subscriptions", visible.map(subscriptionBody));
  }
  const sub = getSubscription(ctx.state, subId);
  if (!sub || !canSeeSubscription(ctx.state, ctx.caller, sub.name)) return subscriptionNotFound(subId);
  return ok(subscriptionBody(sub));
}
