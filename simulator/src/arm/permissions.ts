// GET {scope}/providers/Microsoft.Authorization/permissions: the caller's own effective permissions at a scope.
import type { SimResponse } from "../contract";
import type { ArmContext } from "./context";
import { API_VERSIONS, checkApiVersion, list, methodNotAllowed } from "./http";
import { permissionsAt } from "./rbac";

export function handlePermissions(ctx: ArmContext, scope: string): SimResponse {
  const bad = checkApiVersion(ctx.req, API_VERSIONS.authorization);
  if (bad) return bad;
  if (ctx.req.method !== "GET") return methodNotAllowed(ctx.req.method);
  return list(permissionsAt(ctx.state, ctx.caller.objectId, scope === "" ? "/" : scope));
}
