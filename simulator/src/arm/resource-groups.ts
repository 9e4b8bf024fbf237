// Resource groups: list, get, check existence (HEAD), createOrUpdate.
import { z } from "zod";
import type { SimResponse } from "../contract";
import type { ArmContext } from "./context";
import {
  API_VERSIONS,
  armError,
  checkApiVersion,
  list,
  LOCATIONS,
  methodNotAllowed,
  normalizeLocation,
  ok,
  parseBody,
  resourceGroupNotFound,
} from "./http";
import { denyByPolicy } from "./policy";
import { authorize, isAllowed } from "./rbac";
import { deleteResourceGroup } from "./resource-group-delete";
import { getResourceGroup, RESOURCE_GROUP_TYPE, resourcesOfType } from "./world";

const rgBodySchema = z.object({
  location: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  managedBy: z.string().optional(),
});

const RG_NAME = /^[-\w._()]{1,90}$/u;

/** /subscriptions/{sub}/resourcegroups[/{rg}] */
export function handleResourceGroups(ctx: ArmContext, sub: string): SimResponse {
  const bad = checkApiVersion(ctx.req, API_VERSIONS.resources);
  if (bad) return bad;
  const { state, caller, req } = ctx;
  const rgName = ctx.seg[3];
  const subScope = `/subscriptions/${sub}`;
  if (rgName === undefined) {
    if (req.method !== "GET") return methodNotAllowed(req.method);
    const read = "Microsoft.Resources/subscriptions/resourceGroups/read";
    const groups = resourcesOfType(state, RESOURCE_GROUP_TYPE, subScope).filter((g) => isAllowed(state, caller.objectId, read, g.id));
    if (groups.length === 0) {
      const denied = authorize(state, caller, read, subScope);
      if (denied) return denied;
    }
    return list(groups);
  }
  const scope = `${subScope}/resourceGroups/${rgName}`;
  const existing = getResourceGroup(state, sub, rgName);
  switch (req.method) {
    case "GET":
    case "HEAD": {
      const denied = authorize(state, caller, "Microsoft.Resources/subscriptions/resourceGroups/read", scope);
      if (denied) return denied;
      if (!existing) return req.method === "HEAD" ? { status: 404 } : resourceGroupNotFound(rgName);
      return req.method === "HEAD" ? { status: 204 } : ok(existing);
    }
    case "PUT": {
      const denied = authorize(state, caller, "Microsoft.Resources/subscriptions/resourceGroups/write", scope);
      if (denied) return denied;
      const parsed = parseBody(rgBodySchema, req.body);
      if ("error" in parsed) return parsed.error;
      if (!RG_NAME.test(rgName) || rgName.endsWith("."))
        return armError(
          400,
          "InvalidResourceGroupName",
          "Resource group names only allow alphanumeric characters, periods, underscores, hyphens and parenthesis and cannot end in a period.",
        );
      if (!parsed.data.location) return armError(400, "LocationRequired", "The location property is required for this definition.");
      const location = normalizeLocation(parsed.data.location);
      if (!LOCATIONS.includes(location))
        return armError(
          400,
          "LocationNotAvailableForResourceType",
          `The provided location '${parsed.data.location}' is not available for resource type 'Microsoft.Resources/resourceGroups'. List of available regions for the resource type is '${LOCATIONS.join(",")}'.`,
        );
      // Policy sees the group as the request describes it (tags from the body), before the group is written; its policy
      // type is Microsoft.Resources/subscriptions/resourceGroups, not the type GET returns (azure-policy built-ins).
      const disallowed = denyByPolicy(state, {
        id: existing?.id ?? scope,
        name: existing?.name ?? rgName,
        type: "Microsoft.Resources/subscriptions/resourceGroups",
        location,
        tags: parsed.data.tags,
      });
      if (disallowed) return disallowed;
      if (existing?.properties.provisioningState === "Deleting")
        return armError(
          409,
          "ResourceGroupBeingDeleted",
          `The resource group '${rgName}' is in deprovisioning state and cannot perform this operation.`,
        );
      if (existing) {
        if (existing.location !== location)
          return armError(
            409,
            "InvalidResourceGroupLocation",
            `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`,
          );
        if (parsed.data.tags) existing.tags = parsed.data.tags;
        return ok(existing);
      }
      const rg = {
        id: scope,
        name: rgName,
        type: RESOURCE_GROUP_TYPE,
        location,
        ...(parsed.data.tags ? { tags: parsed.data.tags } : {}),
        properties: { provisioningState: "Succeeded" },
      };
      state.putArm(rg);
      return ok(rg, 201);
    }
    case "DELETE":
      return deleteResourceGroup(ctx, sub, rgName);
    default:
      return methodNotAllowed(req.method);
  }
}
