// Role assignments: list with $filter, get, create (with ABAC conditions), delete; Entra replication delays included.
import { z } from "zod";
import type { ArmResource, SimResponse } from "../contract";
import type { SimState } from "../state";
import type { ArmContext } from "./context";
import { API_VERSIONS, armError, checkApiVersion, isoNow, methodNotAllowed, ok, parseBody } from "./http";
import { paged } from "./paging";
import { assignmentProps, authorize, findRoleDefinition, roleAssignments, roleGuid, ROLE_ASSIGNMENT_TYPE, scopeContains } from "./rbac";
import { scopeExists } from "./role-definitions";
import { clone } from "./world";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PRINCIPAL_TYPES = ["User", "Group", "ServicePrincipal", "ForeignGroup", "Device"] as const;

const assignmentSchema = z.object({
  properties: z.object({
    roleDefinitionId: z.string().min(1),
    principalId: z.string().min(1),
    principalType: z.enum(PRINCIPAL_TYPES).nullish(),
    description: z.string().nullish(),
    condition: z.string().nullish(),
    conditionVersion: z.string().nullish(),
    delegatedManagedIdentityResourceId: z.string().nullish(),
  }),
});

/** The directory object behind a principal id, as ARM's Graph lookup would see it right now. */
function lookupPrincipal(state: SimState, principalId: string): { type: "User" | "ServicePrincipal"; createdAt: number } | undefined {
  const id = principalId.toLowerCase();
  if (state.graph.users.some((u) => u.id.toLowerCase() === id)) return { type: "User", createdAt: 0 };
  const sp = state.graph.servicePrincipals.find((s) => s.id.toLowerCase() === id);
  if (sp) {
    const created = typeof sp.createdDateTime === "string" ? Date.parse(sp.createdDateTime) : 0;
    return { type: "ServicePrincipal", createdAt: Number.isNaN(created) ? 0 : created };
  }
  return undefined;
}

function principalNotFound(state: SimState, principalId: string): SimResponse {
  return armError(
    400,
    "PrincipalNotFound",
    `Principal ${principalId.replace(/-/g, "")} does not exist in the directory ${state.scenario.tenant.id}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
  );
}

const CONDITION_FUNCTIONS =
  /\b(ActionMatches|SubOperationMatches|StringEquals|StringEqualsIgnoreCase|StringNotEquals|StringNotEqualsIgnoreCase|StringLike|StringNotLike|StringStartsWith|StringNotStartsWith|NumericEquals|NumericNotEquals|NumericLessThan|NumericLessThanEquals|NumericGreaterThan|NumericGreaterThanEquals|BoolEquals|BoolNotEquals|DateTimeEquals|DateTimeNotEquals|DateTimeGreaterThan|DateTimeLessThan|GuidEquals|GuidNotEquals|IpMatch|IpNotMatch|IpInRange|IpNotInRange|ForAnyOfAnyValues:\w+|ForAllOfAnyValues:\w+|ForAnyOfAllValues:\w+|ForAllOfAllValues:\w+)\b/;

/** Loose ABAC syntax check: balanced parentheses and quotes, well-formed attributes, at least one known operator. */
export function isPlausibleCondition(condition: string): boolean {
  let depth = 0;
  let inQuote = false;
  for (const ch of condition) {
    if (ch === "'") inQuote = !inQuote;
    else if (!inQuote && ch === "(") depth++;
    else if (!inQuote && ch === ")" && --depth < 0) return false;
  }
  if (depth !== 0 || inQuote) return false;
  const stripped = condition.replace(/'(?:[^']|'')*'/g, "''").replace(/\{[^}]*\}/g, "{}");
  const attrs = stripped.match(/@[A-Za-z]+\[[^\]]*\]/g) ?? [];
  if (attrs.some((a) => !/^@(Resource|Request|Principal|Environment)\[[A-Za-z0-9./_-]+(:[A-Za-z0-9._<>$-]+)?\]$/.test(a))) return false;
  if (/@(?!(Resource|Request|Principal|Environment)\[)/.test(stripped)) return false;
  return CONDITION_FUNCTIONS.test(stripped);
}

export function assignmentBody(r: ArmResource): Record<string, unknown> {
  return clone(r);
}

/** {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}] */
export function handleRoleAssignments(ctx: ArmContext, scope: string, name: string | undefined): SimResponse {
  const { state, caller, req } = ctx;
  const bad = checkApiVersion(req, API_VERSIONS.authorization);
  if (bad) return bad;
  const at = scope === "" ? "/" : scope;
  if (name === undefined) {
    if (req.method !== "GET") return methodNotAllowed(req.method);
    const denied = authorize(state, caller, "Microsoft.Authorization/roleAssignments/read", at);
    if (denied) return denied;
    return paged(ctx, "roleAssignments", filterAssignments(ctx, at).map(assignmentBody));
  }
  const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  const existing = roleAssignments(state).find((a) => a.id.toLowerCase() === id.toLowerCase());
  switch (req.method) {
    case "GET": {
      const denied = authorize(state, caller, "Microsoft.Authorization/roleAssignments/read", at);
      if (denied) return denied;
      return existing
        ? ok(assignmentBody(existing))
        : armError(404, "RoleAssignmentNotFound", `The role assignment '${name}' is not found.`);
    }
    case "DELETE": {
      const denied = authorize(state, caller, "Microsoft.Authorization/roleAssignments/delete", at);
      if (denied) return denied;
      if (!existing) return { status: 204 };
      state.deleteArm(existing.id);
      return ok(assignmentBody(existing));
    }
    case "PUT":
      return createAssignment(ctx, scope, name, id, existing);
    default:
      return methodNotAllowed(req.method);
  }
}

function createAssignment(ctx: ArmContext, scope: string, name: string, id: string, existing: ArmResource | undefined): SimResponse {
  const { state, caller, req } = ctx;
  if (!GUID.test(name))
    return armError(
      400,
      "InvalidRoleAssignmentId",
      `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
    );
  const denied = authorize(state, caller, "Microsoft.Authorization/roleAssignments/write", scope === "" ? "/" : scope);
  if (denied) return denied;
  if (!scopeExists(ctx, scope)) return armError(400, "InvalidScope", `The scope '${scope}' is not valid.`);
  const parsed = parseBody(assignmentSchema, req.body);
  if ("error" in parsed) return parsed.error;
  const p = parsed.data.properties;
  const now = state.now();
  if (!GUID.test(p.principalId)) return armError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.");

  const def = findRoleDefinition(state, p.roleDefinitionId);
  const guid = roleGuid(p.roleDefinitionId);
  // Custom roles take minutes to replicate; until then, and outside their assignable scopes, ARM can't find them.
  if (
    !def ||
    (def.type === "CustomRole" &&
      (now - def.createdAt < state.latency.replicationMs || !def.assignableScopes.some((s) => scopeContains(s, scope))))
  )
    return armError(400, "RoleDefinitionDoesNotExist", `The specified role definition with ID '${guid}' does not exist.`);

  const principal = lookupPrincipal(state, p.principalId);
  if (!principal) return principalNotFound(state, p.principalId);
  // With principalType set ARM skips its directory lookup, which is what makes brand-new service principals assignable.
  if (
    principal.type === "ServicePrincipal" &&
    p.principalType !== "ServicePrincipal" &&
    now - principal.createdAt < state.latency.replicationMs
  )
    return principalNotFound(state, p.principalId);
  if (p.principalType && p.principalType !== principal.type)
    return armError(
      400,
      "UnmatchedPrincipalType",
      `The PrincipalId '${p.principalId.replace(/-/g, "")}' has type '${principal.type}' , which is different from specified PrincipalType '${p.principalType}'.`,
    );

  if (p.condition) {
    if (p.conditionVersion !== "2.0" || !isPlausibleCondition(p.condition))
      return armError(400, "InvalidRoleAssignmentCondition", "The given role assignment condition is invalid.");
  } else if (p.conditionVersion) {
    return armError(400, "InvalidRoleAssignmentCondition", "The given role assignment condition is invalid.");
  }

  const roleDefinitionId = `/subscriptions/${scope.split("/")[2] ?? ""}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
  if (existing) {
    const e = assignmentProps(existing);
    if (e.principalId.toLowerCase() !== p.principalId.toLowerCase() || roleGuid(e.roleDefinitionId) !== guid)
      return armError(
        409,
        "RoleAssignmentUpdateNotPermitted",
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
      );
  } else {
    const duplicate = roleAssignments(state).find((a) => {
      const x = assignmentProps(a);
      return (
        x.principalId.toLowerCase() === p.principalId.toLowerCase() &&
        roleGuid(x.roleDefinitionId) === guid &&
        x.scope.toLowerCase() === (scope === "" ? "/" : scope).toLowerCase()
      );
    });
    if (duplicate) return armError(409, "RoleAssignmentExists", "The role assignment already exists.");
  }
  const prev = existing?.properties as { createdOn?: string; createdBy?: string } | undefined;
  const resource: ArmResource = {
    id: existing?.id ?? id,
    name: name.toLowerCase(),
    type: ROLE_ASSIGNMENT_TYPE,
    properties: {
      roleDefinitionId: scope.startsWith("/subscriptions/")
        ? roleDefinitionId
        : `/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
      principalId: p.principalId,
      principalType: p.principalType ?? principal.type,
      scope: scope === "" ? "/" : scope,
      condition: p.condition ?? null,
      conditionVersion: p.condition ? (p.conditionVersion ?? null) : null,
      createdOn: prev?.createdOn ?? isoNow(now),
      updatedOn: isoNow(now),
      createdBy: prev?.createdBy ?? caller.objectId,
      updatedBy: caller.objectId,
      delegatedManagedIdentityResourceId: p.delegatedManagedIdentityResourceId ?? null,
      description: p.description ?? null,
    },
  };
  state.putArm(resource);
  return ok(assignmentBody(resource), existing ? 200 : 201);
}

/** No filter: at, above and below the scope. atScope(): at and above. assignedTo('x') / principalId eq 'x': that principal. */
function filterAssignments(ctx: ArmContext, scope: string): ArmResource[] {
  const filter = ctx.req.query.get("$filter") ?? "";
  const atScope = /atScope\(\)/i.test(filter);
  const principal = /assignedTo\('([^']+)'\)/i.exec(filter)?.[1] ?? /principalId\s+eq\s+'([^']+)'/i.exec(filter)?.[1];
  return roleAssignments(ctx.state).filter((a) => {
    const p = assignmentProps(a);
    const inScope = atScope ? scopeContains(p.scope, scope) : scopeContains(p.scope, scope) || scopeContains(scope, p.scope);
    return inScope && (!principal || p.principalId.toLowerCase() === principal.toLowerCase());
  });
}
