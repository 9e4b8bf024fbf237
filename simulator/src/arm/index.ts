// ARM (management.azure.com) surface of the simulator: routing, api-version and audience checks.
import type { SimRequest, SimResponse } from "../contract";
import type { Handler, SimState } from "../state";
import type { ArmContext } from "./context";
import { handleDiagnosticSettings } from "./diagnostic-settings";
import { armError, invalidResourceType } from "./http";
import { handleClusterCredentials, handleManagedClusters } from "./managed-clusters";
import { handleLocks, writeGate } from "./locks";
import { handleManagementPolicy } from "./management-policies";
import { handlePermissions } from "./permissions";
import { handlePolicyAssignments, handlePolicyDefinitions } from "./policy";
import { canonicalNamespace, handleProviders } from "./providers";
import { handleOperationResult, listResourcesInGroup } from "./resource-group-delete";
import { handleResourceGroups } from "./resource-groups";
import { handleRoleAssignments } from "./role-assignments";
import { handleRoleDefinitions } from "./role-definitions";
import { handleCheckNameAvailability, handleStorageAccounts, handleStorageOperation } from "./storage-accounts";
import { handleSubscriptions } from "./subscriptions";
import { foreignTenantGuard, handleTenants } from "./tenants";
import { getSubscription, settle } from "./world";
import { handleGenericResources, handleWorkspaces } from "./workspaces";

export { seedArm } from "./seed";

const EXTENSIONS: Record<string, Record<string, true>> = {
  "microsoft.authorization": {
    roleassignments: true,
    roledefinitions: true,
    permissions: true,
    policyassignments: true,
    policydefinitions: true,
    locks: true,
  },
  "microsoft.insights": { diagnosticsettings: true },
};

/** Answers ARM requests; undefined when the path is not an ARM path. */
export const handleArm: Handler = (req: SimRequest, state: SimState): SimResponse | undefined => {
  const path = req.path.replace(/\/{2,}/g, "/").replace(/\/+$/, "");
  const seg = path.split("/").filter(Boolean).map(safeDecode);
  const low = seg.map((s) => s.toLowerCase());
  if (low[0] !== "subscriptions" && low[0] !== "providers" && low[0] !== "tenants") return undefined;
  const caller = req.caller;
  if (caller.audience !== "arm")
    return armError(
      401,
      "InvalidAuthenticationTokenAudience",
      "The access token has been obtained for wrong audience or resource. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
    );
  if (caller.kind === "user" && !caller.scopes.some((s) => s.toLowerCase().endsWith("user_impersonation")))
    return armError(401, "InvalidAuthenticationToken", "The access token is invalid.");
  const apiVersion = req.query.get("api-version");
  if (!apiVersion)
    return armError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
  settle(state);
  const ctx: ArmContext = { req, state, caller, seg, low, apiVersion };
  if (low[0] === "tenants") return handleTenants(ctx);
  return foreignTenantGuard(ctx) ?? writeGate(ctx, `/${seg.join("/")}`) ?? route(ctx);
};

function route(ctx: ArmContext): SimResponse {
  const { seg, low } = ctx;
  // Extension resources ({scope}/providers/Microsoft.Authorization/…, {resourceUri}/providers/Microsoft.Insights/…): the last one wins.
  for (let i = low.length - 2; i >= 0; i--) {
    const ns = low[i + 1];
    const type = low[i + 2];
    if (low[i] !== "providers" || ns === undefined || type === undefined || !EXTENSIONS[ns]?.[type]) continue;
    if (low.length > i + 4) break;
    const scope = i === 0 ? "" : `/${seg.slice(0, i).join("/")}`;
    const name = seg[i + 3];
    if (low[0] === "subscriptions" && !getSubscription(ctx.state, seg[1] ?? ""))
      return armError(404, "SubscriptionNotFound", `The subscription '${seg[1] ?? ""}' could not be found.`);
    if (type === "roleassignments") return handleRoleAssignments(ctx, scope, name);
    if (type === "roledefinitions") return handleRoleDefinitions(ctx, scope, name);
    if (type === "permissions") return name === undefined ? handlePermissions(ctx, scope) : notFound();
    if (type === "policyassignments") return handlePolicyAssignments(ctx, scope, name);
    if (type === "policydefinitions") return handlePolicyDefinitions(ctx, scope, name);
    if (type === "locks") return handleLocks(ctx, scope, name);
    return handleDiagnosticSettings(ctx, scope, name);
  }
  if (low[0] !== "subscriptions") return notFound();
  if (seg.length <= 2) return handleSubscriptions(ctx);
  const sub = seg[1] ?? "";
  if (!getSubscription(ctx.state, sub)) return armError(404, "SubscriptionNotFound", `The subscription '${sub}' could not be found.`);
  if (low[2] === "resourcegroups") {
    if (seg.length <= 4) return handleResourceGroups(ctx, sub);
    if (seg.length === 5 && low[4] === "resources") return listResourcesInGroup(ctx, sub, seg[3] ?? "");
    if (low[4] !== "providers" || seg.length < 7) return notFound();
    return providerResource(ctx, sub, seg[3], 5);
  }
  if (low[2] === "operationresults" && seg.length === 4) return handleOperationResult(ctx, sub, seg[3] ?? "");
  if (low[2] === "resources" && seg.length === 3) return handleGenericResources(ctx, sub);
  if (low[2] === "providers") {
    const verb = low[4];
    if (seg.length <= 4 || (seg.length === 5 && (verb === "register" || verb === "unregister"))) return handleProviders(ctx, sub);
    return providerResource(ctx, sub, undefined, 3);
  }
  return notFound();
}

/** Provider resources under a subscription (rg undefined) or a resource group; `at` indexes the namespace segment. */
function providerResource(ctx: ArmContext, sub: string, rg: string | undefined, at: number): SimResponse {
  const { seg, low } = ctx;
  const ns = low[at] ?? "";
  const type = low[at + 1] ?? "";
  const rest = seg.slice(at + 2);
  const restLow = low.slice(at + 2);
  if (ns === "microsoft.storage") {
    if (rg === undefined && type === "checknameavailability" && rest.length === 0) return handleCheckNameAvailability(ctx, sub);
    if (rg === undefined && type === "locations" && restLow[1] === "asyncoperations" && rest.length === 3)
      return handleStorageOperation(ctx, sub, rest[0] ?? "", rest[2] ?? "");
    if (type === "storageaccounts") {
      if (rest.length <= 1) return handleStorageAccounts(ctx, sub, rg, rest[0], undefined);
      if (rg !== undefined && rest.length === 2) return handleStorageAccounts(ctx, sub, rg, rest[0], restLow[1]);
      if (rg !== undefined && restLow[1] === "managementpolicies" && rest.length === 3) {
        const accountId = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${rest[0] ?? ""}`;
        return handleManagementPolicy(ctx, accountId, rg, rest[2] ?? "");
      }
    }
  }
  if (ns === "microsoft.containerservice" && type === "managedclusters" && rest.length <= 1)
    return handleManagedClusters(ctx, sub, rg, rest[0]);
  if (
    ns === "microsoft.containerservice" &&
    type === "managedclusters" &&
    rg !== undefined &&
    rest.length === 2 &&
    (restLow[1] === "listclusterusercredential" || restLow[1] === "listclusteradmincredential")
  )
    return handleClusterCredentials(ctx, sub, rg, rest[0] ?? "", restLow[1]);
  if (ns === "microsoft.operationalinsights" && type === "workspaces" && rest.length <= 1) return handleWorkspaces(ctx, sub, rg, rest[0]);
  const canonical = canonicalNamespace(seg[at] ?? "");
  if (!canonical) return armError(400, "InvalidResourceNamespace", `The resource namespace '${seg[at] ?? ""}' is invalid.`);
  return invalidResourceType([seg[at + 1], ...rest.filter((_, i) => i % 2 === 1)].join("/"), canonical, ctx.apiVersion);
}

function notFound(): SimResponse {
  return armError(404, "NotFound", "The requested resource does not exist.");
}

/** decodeURIComponent that leaves malformed escapes as they are instead of throwing. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
