// Azure RBAC evaluation: role assignments at or above a scope, role definitions, wildcard action matching.
import { BUILTIN_ROLES, type ArmResource, type Caller, type SimResponse } from "../contract";
import type { SimState } from "../state";
import { armError, callerLabel } from "./http";

export const ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments";
export const ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions";

export interface Permission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface RoleDefinition {
  id: string;
  roleName: string;
  description: string;
  type: "BuiltInRole" | "CustomRole";
  permissions: Permission[];
  assignableScopes: string[];
  /** Epoch ms; custom roles are invisible to role assignments for replicationMs after this. */
  createdAt: number;
  resource?: ArmResource;
}

const BUILTIN_DESCRIPTIONS: Record<string, string> = {
  Owner: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
  Contributor:
    "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
  Reader: "View all resources, but does not allow you to make any changes.",
  "User Access Administrator": "Lets you manage user access to Azure resources.",
  "Role Based Access Control Administrator":
    "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
  "Log Analytics Reader":
    "Log Analytics Reader can view and search all monitoring data as well as and view monitoring settings, including viewing the configuration of Azure diagnostics on all Azure resources.",
  "Storage Blob Data Reader": "Allows for read access to Azure Storage blob containers and data",
  "Monitoring Contributor": "Can read all monitoring data and update monitoring settings.",
};

/** Built-ins beyond the contract's list that the portal may read or assign. */
const EXTRA_BUILTINS: { name: string; id: string; actions: string[]; dataActions: string[]; description: string }[] = [
  {
    name: "Azure Kubernetes Service Cluster User Role",
    id: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    actions: [
      "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
      "Microsoft.ContainerService/managedClusters/read",
    ],
    dataActions: [],
    description: "List cluster user credential action.",
  },
  {
    name: "Azure Kubernetes Service RBAC Reader",
    id: "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    actions: [
      "Microsoft.Authorization/*/read",
      "Microsoft.Resources/subscriptions/operationresults/read",
      "Microsoft.Resources/subscriptions/read",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
    ],
    dataActions: ["Microsoft.ContainerService/managedClusters/pods/read", "Microsoft.ContainerService/managedClusters/namespaces/read"],
    description: "Allows read-only access to see most objects in a namespace. It does not allow viewing roles or role bindings.",
  },
];

const BUILTIN_CREATED = Date.parse("2015-02-02T21:55:09.880Z");

export const BUILTIN_DEFINITIONS: RoleDefinition[] = [
  ...Object.entries(BUILTIN_ROLES).map(([name, r]) => ({
    id: r.id,
    roleName: name,
    description: BUILTIN_DESCRIPTIONS[name] ?? name,
    type: "BuiltInRole" as const,
    permissions: [{ actions: [...r.actions], notActions: [...r.notActions], dataActions: [...r.dataActions], notDataActions: [] }],
    assignableScopes: ["/"],
    createdAt: BUILTIN_CREATED,
  })),
  ...EXTRA_BUILTINS.map((r) => ({
    id: r.id,
    roleName: r.name,
    description: r.description,
    type: "BuiltInRole" as const,
    permissions: [{ actions: r.actions, notActions: [], dataActions: r.dataActions, notDataActions: [] }],
    assignableScopes: ["/"],
    createdAt: BUILTIN_CREATED,
  })),
];

/** The GUID at the end of a roleDefinitionId (or the GUID itself). */
export function roleGuid(roleDefinitionId: string): string {
  return (roleDefinitionId.split("/").pop() ?? "").toLowerCase();
}

export function customRoleResources(state: SimState): ArmResource[] {
  return [...state.arm.values()].filter((r) => r.type === ROLE_DEFINITION_TYPE);
}

export function customRoleFromResource(r: ArmResource): RoleDefinition {
  const p = r.properties as {
    roleName: string;
    description?: string;
    permissions?: Partial<Permission>[];
    assignableScopes?: string[];
    createdOn?: string;
  };
  return {
    id: r.name,
    roleName: p.roleName,
    description: p.description ?? "",
    type: "CustomRole",
    permissions: (p.permissions ?? []).map((x) => ({
      actions: x.actions ?? [],
      notActions: x.notActions ?? [],
      dataActions: x.dataActions ?? [],
      notDataActions: x.notDataActions ?? [],
    })),
    assignableScopes: p.assignableScopes ?? [],
    createdAt: p.createdOn ? Date.parse(p.createdOn) : 0,
    resource: r,
  };
}

/** Built-in or custom role by GUID; custom GUIDs are tenant-wide, whatever scope they were created at. */
export function findRoleDefinition(state: SimState, idOrGuid: string): RoleDefinition | undefined {
  const guid = roleGuid(idOrGuid);
  const builtin = BUILTIN_DEFINITIONS.find((d) => d.id === guid);
  if (builtin) return builtin;
  const custom = customRoleResources(state).find((r) => r.name.toLowerCase() === guid);
  return custom ? customRoleFromResource(custom) : undefined;
}

/** True when `inner` is `outer` or lies below it ("/" contains everything). */
export function scopeContains(outer: string, inner: string): boolean {
  const o = outer.replace(/\/+$/, "").toLowerCase();
  const i = inner.replace(/\/+$/, "").toLowerCase();
  return o === "" || i === o || i.startsWith(`${o}/`);
}

export function roleAssignments(state: SimState): ArmResource[] {
  return [...state.arm.values()].filter((r) => r.type === ROLE_ASSIGNMENT_TYPE);
}

export interface AssignmentProps {
  roleDefinitionId: string;
  principalId: string;
  principalType?: string;
  scope: string;
  condition?: string | null;
  conditionVersion?: string | null;
}

export function assignmentProps(r: ArmResource): AssignmentProps {
  return r.properties as unknown as AssignmentProps;
}

/** Assignments of a principal that apply at `scope` (assigned there or at a parent). */
export function effectiveAssignments(state: SimState, principalId: string, scope: string): ArmResource[] {
  return roleAssignments(state).filter((a) => {
    const p = assignmentProps(a);
    return p.principalId.toLowerCase() === principalId.toLowerCase() && scopeContains(p.scope, scope);
  });
}

const patternCache = new Map<string, RegExp>();

/** Azure action wildcards: `*` matches any run of characters, comparison is case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
        .join(".*")}$`,
      "i",
    );
    patternCache.set(pattern, re);
  }
  return re.test(action);
}

/** NotActions only subtract within the same permission block; blocks and roles add up. */
export function permissionAllows(perms: Permission[], action: string, data = false): boolean {
  return perms.some((p) => {
    const allow = data ? p.dataActions : p.actions;
    const deny = data ? p.notDataActions : p.notActions;
    return allow.some((a) => actionMatches(a, action)) && !deny.some((n) => actionMatches(n, action));
  });
}

export function isAllowed(state: SimState, principalId: string, action: string, scope: string): boolean {
  return effectiveAssignments(state, principalId, scope).some((a) => {
    const def = findRoleDefinition(state, assignmentProps(a).roleDefinitionId);
    return def ? permissionAllows(def.permissions, action) : false;
  });
}

/** The caller's effective permission blocks at a scope (what GET …/permissions answers). */
export function permissionsAt(state: SimState, principalId: string, scope: string): Permission[] {
  return effectiveAssignments(state, principalId, scope).flatMap(
    (a) => findRoleDefinition(state, assignmentProps(a).roleDefinitionId)?.permissions ?? [],
  );
}

export function authorizationFailed(caller: Caller, action: string, scope: string): SimResponse {
  return armError(
    403,
    "AuthorizationFailed",
    `The client '${callerLabel(caller)}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    { "x-ms-failure-cause": "gateway" },
  );
}

/** undefined when allowed, else ARM's 403 AuthorizationFailed. */
export function authorize(state: SimState, caller: Caller, action: string, scope: string): SimResponse | undefined {
  return isAllowed(state, caller.objectId, action, scope) ? undefined : authorizationFailed(caller, action, scope);
}

/** A subscription is visible when the caller holds any role at, above or below it. */
export function canSeeSubscription(state: SimState, caller: Caller, subscriptionId: string): boolean {
  const sub = `/subscriptions/${subscriptionId}`;
  return roleAssignments(state).some((a) => {
    const p = assignmentProps(a);
    return p.principalId.toLowerCase() === caller.objectId.toLowerCase() && (scopeContains(p.scope, sub) || scopeContains(sub, p.scope));
  });
}
