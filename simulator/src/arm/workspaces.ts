// Log Analytics workspaces (Microsoft.OperationalInsights/workspaces): seeded from the scenario, read-only here, and the
// generic resource list (GET /subscriptions/{s}/resources?$filter=resourceType eq '…') that finds them.
import type { ArmResource, Scenario, SimResponse } from "../contract";
import type { SimState } from "../state";
import type { ArmContext } from "./context";
import { checkApiVersion, list, methodNotAllowed, normalizeLocation, ok, resourceGroupNotFound, resourceNotFound } from "./http";
import { authorize, isAllowed } from "./rbac";
import { getResourceGroup, resourcesOfType } from "./world";

export const WORKSPACE_TYPE = "Microsoft.OperationalInsights/workspaces";
const WORKSPACE_API_VERSIONS = ["2022-10-01", "2023-09-01", "2025-02-01"] as const;
// Generic resources share the resource-group api-versions (arm-resources 7 sends 2025-04-01).
const RESOURCES_API_VERSIONS = ["2025-04-01", "2024-11-01", "2024-03-01", "2022-09-01", "2021-04-01", "2020-06-01", "2019-10-01"] as const;

type ScenarioWorkspace = Scenario["subscriptions"][number]["logAnalyticsWorkspaces"][number];

/** A workspace GET body as Log Analytics returns it (customerId is the GUID the query API addresses). */
export function workspaceResource(sub: string, rg: string, w: ScenarioWorkspace): ArmResource {
  return {
    id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.OperationalInsights/workspaces/${w.name}`,
    name: w.name,
    type: WORKSPACE_TYPE,
    location: normalizeLocation(w.location),
    properties: {
      provisioningState: "Succeeded",
      customerId: w.customerId,
      sku: { name: "PerGB2018" },
      retentionInDays: 30,
      publicNetworkAccessForIngestion: "Enabled",
      publicNetworkAccessForQuery: "Enabled",
    },
  };
}

/** Put the scenario's workspaces of one subscription into ARM (their resource groups exist by then). */
export function seedWorkspaces(state: SimState, sub: Scenario["subscriptions"][number]): void {
  for (const w of sub.logAnalyticsWorkspaces) {
    const rg = getResourceGroup(state, sub.id, w.resourceGroup)?.name ?? w.resourceGroup;
    state.putArm(workspaceResource(sub.id, rg, w));
  }
}

/** /subscriptions/{sub}[/resourceGroups/{rg}]/providers/Microsoft.OperationalInsights/workspaces[/{name}] */
export function handleWorkspaces(ctx: ArmContext, sub: string, rg: string | undefined, name: string | undefined): SimResponse {
  const bad = checkApiVersion(ctx.req, WORKSPACE_API_VERSIONS);
  if (bad) return bad;
  const { state, caller, req } = ctx;
  if (req.method !== "GET") return methodNotAllowed(req.method);
  const read = `${WORKSPACE_TYPE}/read`;
  if (rg !== undefined && !getResourceGroup(state, sub, rg))
    return authorize(state, caller, read, `/subscriptions/${sub}/resourceGroups/${rg}`) ?? resourceGroupNotFound(rg);
  const scope = rg === undefined ? `/subscriptions/${sub}` : `/subscriptions/${sub}/resourceGroups/${rg}`;
  if (name === undefined) {
    const items = resourcesOfType(state, WORKSPACE_TYPE, scope).filter((w) => isAllowed(state, caller.objectId, read, w.id));
    if (items.length === 0) {
      const denied = authorize(state, caller, read, scope);
      if (denied) return denied;
    }
    return list(items);
  }
  const id = `${scope}/providers/Microsoft.OperationalInsights/workspaces/${name}`;
  const denied = authorize(state, caller, read, id);
  if (denied) return denied;
  const w = state.getArm(id);
  if (!w || w.type !== WORKSPACE_TYPE) return resourceNotFound(WORKSPACE_TYPE, name, rg ?? "");
  return ok(w);
}

/** GET /subscriptions/{sub}/resources: id, name, type, location, tags of what the caller may read; `$filter=resourceType eq '…'` only. */
export function handleGenericResources(ctx: ArmContext, sub: string): SimResponse {
  const bad = checkApiVersion(ctx.req, RESOURCES_API_VERSIONS);
  if (bad) return bad;
  const { state, caller, req } = ctx;
  if (req.method !== "GET") return methodNotAllowed(req.method);
  const filter = req.query.get("$filter");
  const m = filter === null ? null : /^\s*resourceType\s+eq\s+'([^']+)'\s*$/i.exec(filter);
  if (filter !== null && !m) {
    return {
      status: 400,
      body: {
        error: {
          code: "InvalidFilterInQueryString",
          message: `The simulator supports only $filter=resourceType eq '<type>' (got '${filter}').`,
        },
      },
    };
  }
  const type = m?.[1]?.toLowerCase();
  const scope = `/subscriptions/${sub}`;
  // Sub-level and rg-level bookkeeping resources aren't "resources" in this API.
  const items = [...state.arm.values()].filter(
    (r) =>
      r.id.toLowerCase().startsWith(`${scope.toLowerCase()}/resourcegroups/`) &&
      /\/providers\/[^/]+\/[^/]+\/[^/]+$/i.test(r.id) &&
      !r.type.toLowerCase().startsWith("microsoft.authorization/") &&
      !r.type.toLowerCase().startsWith("microsoft.insights/") &&
      (type === undefined || r.type.toLowerCase() === type) &&
      isAllowed(state, caller.objectId, `${r.type}/read`, r.id),
  );
  if (items.length === 0) {
    const denied = authorize(state, caller, "Microsoft.Resources/subscriptions/resources/read", scope);
    if (denied) return denied;
  }
  return list(items.map((r) => ({ id: r.id, name: r.name, type: r.type, location: r.location, ...(r.tags ? { tags: r.tags } : {}) })));
}
