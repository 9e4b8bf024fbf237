// Role definitions: built-ins readable at any scope, custom roles created/updated/deleted with Azure's scope rules.
import { z } from "zod";
import type { ArmResource, SimResponse } from "../contract";
import type { ArmContext } from "./context";
import { API_VERSIONS, armError, checkApiVersion, isoNow, list, methodNotAllowed, ok, parseBody } from "./http";
import {
  authorize,
  BUILTIN_DEFINITIONS,
  customRoleFromResource,
  customRoleResources,
  findRoleDefinition,
  roleAssignments,
  assignmentProps,
  roleGuid,
  ROLE_DEFINITION_TYPE,
  scopeContains,
  type RoleDefinition,
} from "./rbac";
import { clone, getResourceGroup, getSubscription, parseResourceId } from "./world";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const permissionSchema = z.object({
  actions: z.array(z.string()).default([]),
  notActions: z.array(z.string()).default([]),
  dataActions: z.array(z.string()).default([]),
  notDataActions: z.array(z.string()).default([]),
});
const roleDefinitionSchema = z.object({
  name: z.string().optional(),
  properties: z.object({
    roleName: z.string().min(1),
    description: z.string().nullish(),
    type: z.string().nullish(),
    permissions: z.array(permissionSchema).min(1),
    assignableScopes: z.array(z.string()).min(1),
  }),
});

/** "/subscriptions/{s}" for any scope inside a subscription, "" for the root. */
function subscriptionPrefix(scope: string): string {
  const { sub } = parseResourceId(scope);
  return sub ? `/subscriptions/${sub}` : "";
}

export function roleDefinitionBody(def: RoleDefinition, scope: string): Record<string, unknown> {
  if (def.resource) return clone(def.resource);
  return {
    id: `${subscriptionPrefix(scope)}/providers/Microsoft.Authorization/roleDefinitions/${def.id}`,
    name: def.id,
    type: ROLE_DEFINITION_TYPE,
    properties: {
      roleName: def.roleName,
      type: def.type,
      description: def.description,
      assignableScopes: def.assignableScopes,
      permissions: def.permissions,
      createdOn: isoNow(def.createdAt),
      updatedOn: isoNow(def.createdAt),
      createdBy: null,
      updatedBy: null,
    },
  };
}

function notFound(guid: string): SimResponse {
  return armError(404, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${guid}' does not exist.`);
}

/** A scope the simulator knows: root, a subscription, a resource group, or an existing resource. */
export function scopeExists(ctx: ArmContext, scope: string): boolean {
  if (scope === "" || scope === "/") return true;
  const { sub, rg } = parseResourceId(scope);
  if (!sub || !getSubscription(ctx.state, sub)) return false;
  const depth = scope.split("/").filter(Boolean).length;
  if (depth === 2) return true;
  if (!rg || !getResourceGroup(ctx.state, sub, rg)) return false;
  return depth === 4 || !!ctx.state.getArm(scope);
}

/** {scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}] */
export function handleRoleDefinitions(ctx: ArmContext, scope: string, guidArg: string | undefined): SimResponse {
  const { state, caller, req } = ctx;
  const bad = checkApiVersion(req, API_VERSIONS.authorization);
  if (bad) return bad;
  const readScope = scope === "" ? "/" : scope;
  if (req.method === "GET") {
    if (scope !== "") {
      const denied = authorize(state, caller, "Microsoft.Authorization/roleDefinitions/read", readScope);
      if (denied) return denied;
    }
    if (guidArg !== undefined) {
      const def = findRoleDefinition(state, guidArg);
      return def ? ok(roleDefinitionBody(def, scope)) : notFound(guidArg);
    }
    return list(listDefinitions(ctx, scope).map((d) => roleDefinitionBody(d, scope)));
  }
  if (guidArg === undefined) return methodNotAllowed(req.method);
  if (req.method === "DELETE") return deleteDefinition(ctx, scope, guidArg);
  if (req.method !== "PUT") return methodNotAllowed(req.method);

  if (!GUID.test(guidArg)) return armError(400, "InvalidRoleDefinitionId", `The role definition ID '${guidArg}' is not valid.`);
  const denied = authorize(state, caller, "Microsoft.Authorization/roleDefinitions/write", readScope);
  if (denied) return denied;
  const parsed = parseBody(roleDefinitionSchema, req.body);
  if ("error" in parsed) return parsed.error;
  const p = parsed.data.properties;
  if (BUILTIN_DEFINITIONS.some((b) => b.id === guidArg.toLowerCase()))
    return armError(403, "AuthorizationFailed", `Built-in role definition '${guidArg}' cannot be modified.`);
  for (const s of p.assignableScopes) {
    // Custom roles can't be assignable at the root ("/"): only management groups, subscriptions, groups, resources.
    if (s === "/" || s === "") return armError(400, "InvalidAssignableScope", "The assignable scope '/' is not valid for a custom role.");
    // Azure requires roleDefinitions/write on every assignable scope, not just the one in the URL.
    const scopeDenied = authorize(state, caller, "Microsoft.Authorization/roleDefinitions/write", s);
    if (scopeDenied) return scopeDenied;
    if (!scopeExists(ctx, s)) return armError(400, "InvalidAssignableScope", `The assignable scope '${s}' is not valid.`);
  }
  const guid = guidArg.toLowerCase();
  const sameName = [...BUILTIN_DEFINITIONS, ...customRoleResources(state).map(customRoleFromResource)].find(
    (d) => d.roleName.toLowerCase() === p.roleName.toLowerCase() && d.id.toLowerCase() !== guid,
  );
  if (sameName)
    return armError(409, "RoleDefinitionWithSameNameExists", "A role definition cannot be updated with a name that already exists.");

  const existing = customRoleResources(state).find((r) => r.name.toLowerCase() === guid);
  const now = isoNow(state.now());
  const props = existing?.properties as { createdOn?: string; createdBy?: string } | undefined;
  const resource: ArmResource = {
    id: existing?.id ?? `${subscriptionPrefix(scope)}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
    name: guid,
    type: ROLE_DEFINITION_TYPE,
    properties: {
      roleName: p.roleName,
      type: "CustomRole",
      description: p.description ?? "",
      assignableScopes: p.assignableScopes,
      permissions: p.permissions,
      createdOn: props?.createdOn ?? now,
      updatedOn: now,
      createdBy: props?.createdBy ?? caller.objectId,
      updatedBy: caller.objectId,
    },
  };
  if (existing) state.deleteArm(existing.id);
  state.putArm(resource);
  // ARM answers 201 for updates of a role definition too (the SDK accepts nothing else).
  return ok(clone(resource), 201);
}

/** Built-ins plus custom roles assignable at (or above) the scope; honours roleName/type $filter. */
function listDefinitions(ctx: ArmContext, scope: string): RoleDefinition[] {
  const filter = ctx.req.query.get("$filter") ?? "";
  const byName = /roleName\s+eq\s+'((?:[^']|'')*)'/i.exec(filter)?.[1]?.replace(/''/g, "'");
  const byType = /type\s+eq\s+'(\w+)'/i.exec(filter)?.[1];
  const customs = customRoleResources(ctx.state)
    .map(customRoleFromResource)
    .filter((d) => scope === "" || d.assignableScopes.some((s) => scopeContains(s, scope) || scopeContains(scope, s)));
  return [...BUILTIN_DEFINITIONS, ...customs].filter(
    (d) => (!byName || d.roleName.toLowerCase() === byName.toLowerCase()) && (!byType || d.type.toLowerCase() === byType.toLowerCase()),
  );
}

function deleteDefinition(ctx: ArmContext, scope: string, guidArg: string): SimResponse {
  const { state, caller } = ctx;
  const existing = customRoleResources(state).find((r) => r.name.toLowerCase() === roleGuid(guidArg));
  const denied = authorize(state, caller, "Microsoft.Authorization/roleDefinitions/delete", scope === "" ? "/" : scope);
  if (denied) return denied;
  if (!existing) return { status: 204 };
  const def = customRoleFromResource(existing);
  for (const s of def.assignableScopes) {
    const scopeDenied = authorize(state, caller, "Microsoft.Authorization/roleDefinitions/delete", s);
    if (scopeDenied) return scopeDenied;
  }
  if (roleAssignments(state).some((a) => roleGuid(assignmentProps(a).roleDefinitionId) === def.id))
    return armError(
      409,
      "RoleDefinitionHasAssignments",
      "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).",
    );
  state.deleteArm(existing.id);
  return ok(clone(existing));
}
