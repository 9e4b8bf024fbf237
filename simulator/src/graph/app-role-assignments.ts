// App role assignments (admin consent to application permissions): appRoleAssignedTo list/grant/revoke, appRoleAssignments list.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { CONSENT_DIRECTORY_ROLES, WELL_KNOWN_APPS, type Caller, type SimRequest, type SimResponse } from "../contract";
import type { GraphObject, SimState } from "../state";
import {
  APP_READ,
  ASSIGNMENT_WRITE,
  badRequest,
  directoryRolesOf,
  collection,
  entity,
  graphError,
  hasPermission,
  insufficientPrivileges,
  resourceNotFound,
} from "./http";

const grantSchema = z.object({
  principalId: z.string().uuid(),
  resourceId: z.string().uuid(),
  appRoleId: z.string().uuid(),
});

/** Granting Microsoft Graph app roles needs more than Cloud/Application Administrator. */
const GRAPH_CONSENT_ROLES = ["Global Administrator", "Privileged Role Administrator"];

function assignmentId(): string {
  return randomBytes(32).toString("base64url").slice(0, 43);
}

/** Scope check (delegated AppRoleAssignment.ReadWrite.All + Application.Read.All) and, for users, a consent-capable directory role. */
function canGrant(state: SimState, caller: Caller, resource: GraphObject): boolean {
  if (caller.kind === "app") return hasPermission(caller, ["AppRoleAssignment.ReadWrite.All"]);
  if (!hasPermission(caller, ASSIGNMENT_WRITE) || !hasPermission(caller, APP_READ)) return false;
  const roles = directoryRolesOf(state, caller.objectId).map((r) => r.toLowerCase());
  const allowed: readonly string[] = resource.appId === WELL_KNOWN_APPS.microsoftGraph ? GRAPH_CONSENT_ROLES : CONSENT_DIRECTORY_ROLES;
  return allowed.some((r) => roles.includes(r.toLowerCase()));
}

/** /v1.0/servicePrincipals/{id}/appRoleAssignedTo[/{assignmentId}] */
export function handleAppRoleAssignedTo(
  req: SimRequest,
  state: SimState,
  caller: Caller,
  resource: GraphObject | undefined,
  key: string,
  rest: string[],
): SimResponse {
  if (req.method === "GET" && !hasPermission(caller, [...APP_READ, ...ASSIGNMENT_WRITE])) return insufficientPrivileges();
  if (!resource) return resourceNotFound(key);
  const assignedTo = () => state.graph.appRoleAssignments.filter((a) => a.resourceId === resource.id);
  const assignmentKey = rest[0];
  if (assignmentKey !== undefined) {
    if (rest.length > 1) return resourceNotFound(rest[1] ?? "");
    const existing = assignedTo().find((a) => a.id === assignmentKey);
    if (req.method === "GET")
      return existing ? entity(req, `servicePrincipals('${resource.id}')/appRoleAssignedTo`, existing) : resourceNotFound(assignmentKey);
    if (req.method !== "DELETE")
      return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
    if (!canGrant(state, caller, resource)) return insufficientPrivileges();
    if (!existing) return resourceNotFound(assignmentKey);
    state.graph.appRoleAssignments.splice(state.graph.appRoleAssignments.indexOf(existing), 1);
    return { status: 204 };
  }
  if (req.method === "GET") return collection(req, `servicePrincipals('${resource.id}')/appRoleAssignedTo`, assignedTo());
  if (req.method !== "POST") return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
  if (!canGrant(state, caller, resource)) return insufficientPrivileges();
  const parsed = grantSchema.safeParse(req.body ?? {});
  if (!parsed.success)
    return badRequest(
      `Invalid value specified for property '${parsed.error.issues[0]?.path.join(".") ?? ""}' of resource 'AppRoleAssignment'.`,
    );
  const { principalId, resourceId, appRoleId } = parsed.data;
  // The path must name the resource's service principal; another one gets this 400 (microsoftgraph/microsoft-graph-docs#9738).
  if (resourceId.toLowerCase() !== String(resource.id).toLowerCase()) return badRequest("Not a valid reference update.");
  const principalSp = state.graph.servicePrincipals.find((s) => s.id.toLowerCase() === principalId.toLowerCase());
  const principalUser = state.graph.users.find((u) => u.id.toLowerCase() === principalId.toLowerCase());
  const principal = principalSp ?? principalUser;
  if (!principal) return resourceNotFound(principalId);
  const memberType = principalSp ? "Application" : "User";
  const roles = (resource.appRoles as { id: string; allowedMemberTypes?: string[] }[] | undefined) ?? [];
  const role = roles.find((r) => r.id.toLowerCase() === appRoleId.toLowerCase());
  const isDefaultAccess = appRoleId === "00000000-0000-0000-0000-000000000000" && memberType === "User";
  if (!isDefaultAccess && (!role || !(role.allowedMemberTypes ?? []).includes(memberType)))
    return badRequest(`Permission being assigned was not found on application '${String(resource.appId)}'.`);
  const duplicate = state.graph.appRoleAssignments.some(
    (a) =>
      a.resourceId === resource.id &&
      String(a.principalId).toLowerCase() === principalId.toLowerCase() &&
      String(a.appRoleId).toLowerCase() === appRoleId.toLowerCase(),
  );
  if (duplicate) return badRequest("Permission being assigned already exists on the object");
  const assignment: GraphObject = {
    id: assignmentId(),
    deletedDateTime: null,
    appRoleId: appRoleId.toLowerCase(),
    createdDateTime: new Date(state.now()).toISOString(),
    principalDisplayName: String(principal.displayName ?? ""),
    principalId: principal.id,
    principalType: principalSp ? "ServicePrincipal" : "User",
    resourceDisplayName: String(resource.displayName ?? ""),
    resourceId: resource.id,
  };
  state.graph.appRoleAssignments.push(assignment);
  return entity(req, `servicePrincipals('${resource.id}')/appRoleAssignedTo`, assignment, 201);
}

/** /v1.0/servicePrincipals/{id}/appRoleAssignments: what this principal has been granted. */
export function handleAppRoleAssignments(
  req: SimRequest,
  state: SimState,
  caller: Caller,
  sp: GraphObject | undefined,
  key: string,
): SimResponse {
  if (req.method !== "GET") return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
  if (!hasPermission(caller, [...APP_READ, ...ASSIGNMENT_WRITE])) return insufficientPrivileges();
  if (!sp) return resourceNotFound(key);
  return collection(
    req,
    `servicePrincipals('${sp.id}')/appRoleAssignments`,
    state.graph.appRoleAssignments.filter((a) => a.principalId === sp.id),
  );
}
