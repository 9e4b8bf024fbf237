// Step: the portal's custom roles (read-only AKS, cluster metadata only, Log Analytics query), assignable in every selected subscription
// (scopes only ever grow; a subscription scope contains the cluster scopes the roles are assigned at).
import "server-only";
import { mapBounded } from "@/lib/concurrency";
import { AzureOperationError } from "@/lib/azure/errors";
import { getCustomRoleDefinition, type CustomRoleDefinition, type RolePermission } from "@/lib/azure/get-custom-role-definition";
import { customRoleId } from "@/lib/azure/names";
import { customRoleBody, putCustomRoleDefinition } from "@/lib/azure/put-custom-role-definition";
import metadataRoleJson from "./aks-cluster-metadata-role.json";
import roleJson from "./aks-read-only-role.json";
import logAnalyticsRoleJson from "./log-analytics-query-role.json";
import { deleteRoleDefinition } from "@/lib/azure/delete-role-definition";
import type { RunConfig } from "./config";
import { splitKey } from "./keys";
import { standardRemoval } from "./removal";
import type { DescribedResource, DescribeInput, PlannedChange, StepContext, StepModule, VerifyResult } from "./types";

/** Key of the role in customRoleId(): fixed, so every run in a tenant updates the same role. */
export const AKS_READ_ONLY_ROLE_KEY = "aks-read-only";
/** Key of the metadata-only role (clusters without Microsoft Entra integration). */
export const AKS_CLUSTER_METADATA_ROLE_KEY = "aks-cluster-metadata";
/** Key of the Log Analytics query role (each selected subscription). */
export const LOG_ANALYTICS_QUERY_ROLE_KEY = "log-analytics-query";

/** A custom role as the portal defines it. */
export interface CustomRoleSpec {
  key: string;
  roleName: string;
  description: string;
  permissions: readonly RolePermission[];
  /** Why the vendor needs it, for the plan. */
  why: string;
}

const permissionOf = (j: typeof roleJson): RolePermission => ({
  actions: j.actions,
  notActions: j.notActions,
  dataActions: j.dataActions,
  notDataActions: j.notDataActions,
});
const AKS_PERMISSION = permissionOf(roleJson);

/** The read-only AKS role: assigned on selected clusters with Microsoft Entra integration. */
export const AKS_READ_ONLY_ROLE: CustomRoleSpec = {
  key: AKS_READ_ONLY_ROLE_KEY,
  roleName: roleJson.roleName,
  description: roleJson.description,
  permissions: [AKS_PERMISSION],
  why: "Lets the vendor read the selected clusters with Microsoft Entra integration and their Kubernetes objects, never their secrets.",
};

/**
 * Metadata only, for clusters without Microsoft Entra integration, where listClusterUserCredential hands out a
 * cluster-admin kubeconfig. Not the built-in Reader: its wildcard read (every ".../read" action) also returns e.g. run-command
 * results and every child resource's settings, more than the vendor needs to know the cluster exists.
 */
export const AKS_CLUSTER_METADATA_ROLE: CustomRoleSpec = {
  key: AKS_CLUSTER_METADATA_ROLE_KEY,
  roleName: metadataRoleJson.roleName,
  description: metadataRoleJson.description,
  permissions: [permissionOf(metadataRoleJson)],
  why: "Lets the vendor see the selected clusters without Microsoft Entra integration (metadata only: no credentials, no Kubernetes objects).",
};

/**
 * Log Analytics queries only, for each selected subscription. Not the built-in Log Analytics Reader: its "*\/read" also
 * lists containers of every storage account (…/blobServices/containers/read) and reads every resource's settings. Actions
 * from Microsoft Learn's custom-role examples (azure-monitor/logs/manage-access: workspaces/read, query/read, query/*\/read
 * for all tables; manage-table-access) plus the two query actions Log Analytics Reader carries (analytics/query/action,
 * search/action).
 */
export const LOG_ANALYTICS_QUERY_ROLE: CustomRoleSpec = {
  key: LOG_ANALYTICS_QUERY_ROLE_KEY,
  roleName: logAnalyticsRoleJson.roleName,
  description: logAnalyticsRoleJson.description,
  permissions: [permissionOf(logAnalyticsRoleJson)],
  why: "Lets the vendor query Log Analytics in the selected subscriptions, and read nothing else there.",
};

/** Every custom role the portal keeps, in plan order. */
export const CUSTOM_ROLES: readonly CustomRoleSpec[] = [AKS_READ_ONLY_ROLE, AKS_CLUSTER_METADATA_ROLE, LOG_ANALYTICS_QUERY_ROLE];

/** One role as Azure has it now. */
export interface CustomRoleLiveItem {
  key: string;
  roleId: string;
  existing: CustomRoleDefinition | null;
}

/** What Azure has now: every portal role, in CUSTOM_ROLES order. */
export interface CustomRoleLive {
  roles: CustomRoleLiveItem[];
}

/** What the role-assignments step needs. */
export interface CustomRoleOutput {
  /** The read-only AKS role's id. */
  roleId: string;
  /** Full id of the read-only AKS role at the first assignable scope. */
  roleDefinitionId: string;
  assignableScopes: string[];
  /** The metadata-only role's id (clusters without Microsoft Entra integration). */
  metadataRoleId: string;
  /** The Log Analytics query role's id (each selected subscription). */
  logAnalyticsRoleId?: string;
}

/** `/subscriptions/{id}` in lower case: how the portal compares and sends scopes. */
function subscriptionScope(id: string): string {
  return `/subscriptions/${id.toLowerCase()}`;
}

const SUBSCRIPTION_SCOPE = /^\/subscriptions\/([0-9a-f-]{36})\/?$/i;

/** Existing scopes ∪ selected subscriptions, sorted: adding a subscription later extends the role, never shrinks it. */
export function desiredScopes(config: RunConfig, existing: CustomRoleDefinition | null): string[] {
  const all = new Set(config.subscriptions.map((s) => subscriptionScope(s.id)));
  for (const s of existing?.assignableScopes ?? []) {
    const sub = SUBSCRIPTION_SCOPE.exec(s)?.[1];
    all.add(sub ? subscriptionScope(sub) : s.toLowerCase());
  }
  return [...all].sort();
}

function normalisedPermissions(p: readonly RolePermission[]): string {
  const sorted = (xs: readonly string[]) => [...xs].map((x) => x.toLowerCase()).sort();
  return JSON.stringify(p.map((b) => [sorted(b.actions), sorted(b.notActions), sorted(b.dataActions), sorted(b.notDataActions)]));
}

function specOf(key: string): CustomRoleSpec {
  const spec = CUSTOM_ROLES.find((r) => r.key === key);
  if (!spec) throw new Error(`Unknown custom role ${key}`);
  return spec;
}

/** Property-level differences between the live role and the desired one (empty = no change). */
function differences(config: RunConfig, spec: CustomRoleSpec, existing: CustomRoleDefinition): string[] {
  const out: string[] = [];
  const have = new Set(existing.assignableScopes.map((s) => s.toLowerCase().replace(/\/+$/, "")));
  for (const s of desiredScopes(config, existing)) if (!have.has(s)) out.push(`scopes: +${s}`);
  if (existing.roleName !== spec.roleName) out.push(`roleName: "${existing.roleName}" → "${spec.roleName}"`);
  if (existing.description !== spec.description) out.push("description: updated");
  if (normalisedPermissions(existing.permissions) !== normalisedPermissions(spec.permissions))
    out.push(`permissions: reset to the portal's "${spec.roleName}" permissions`);
  return out;
}

function roleDefinitionIdAt(scope: string, roleId: string): string {
  return `${scope}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

function nonSubscriptionScopes(scopes: string[]): string[] {
  return scopes.filter((s) => !SUBSCRIPTION_SCOPE.test(s));
}

async function readOne(ctx: StepContext, key: string): Promise<CustomRoleLiveItem> {
  const roleId = customRoleId(ctx.tenantId, key);
  // A custom role is visible at its assignable scopes; any selected subscription that already has it finds it. Usually
  // the first one does (or it doesn't exist); then the others are asked side by side, not one after another.
  const [first, ...rest] = ctx.config.subscriptions.map((s) => subscriptionScope(s.id));
  const atFirst = first ? await getCustomRoleDefinition(ctx.arm, first, roleId) : null;
  if (atFirst) return { key, roleId, existing: atFirst };
  const others = await mapBounded(rest, 10, (scope) => getCustomRoleDefinition(ctx.arm, scope, roleId));
  return { key, roleId, existing: others.find((r) => r !== null) ?? null };
}

async function read(ctx: StepContext): Promise<CustomRoleLive> {
  return { roles: await Promise.all(CUSTOM_ROLES.map((r) => readOne(ctx, r.key))) };
}

function planOne(ctx: StepContext, live: CustomRoleLiveItem): PlannedChange {
  const spec = specOf(live.key);
  const scopes = desiredScopes(ctx.config, live.existing);
  const base = {
    stepId: "custom-role" as const,
    key: customRoleKeys.put(live.roleId),
    resourceType: "Custom role",
    resource: spec.roleName,
  };
  const permission = spec.permissions[0];
  if (!live.existing) {
    return {
      ...base,
      action: "create",
      why: spec.why,
      details: [
        ...scopes.map((s) => `scopes: +${s}`),
        `actions: ${permission?.actions.join(", ") ?? ""}`,
        ...(permission?.dataActions.length ? [`dataActions: ${permission.dataActions.join(", ")}`] : []),
        ...(permission?.notDataActions.length ? [`notDataActions: ${permission.notDataActions.join(", ")}`] : []),
      ],
    };
  }
  const diff = differences(ctx.config, spec, live.existing);
  return {
    ...base,
    action: diff.length > 0 ? "update" : "no-change",
    why:
      diff.length > 0
        ? "The role must be assignable in every selected subscription; existing scopes are kept."
        : "The role already exists with these permissions and scopes.",
    ...(diff.length > 0 ? { details: diff } : {}),
  };
}

function plan(ctx: StepContext, live: CustomRoleLive): PlannedChange[] {
  return live.roles.map((r) => planOne(ctx, r));
}

async function applyOne(ctx: StepContext, live: CustomRoleLiveItem): Promise<string[]> {
  const spec = specOf(live.key);
  const scopes = desiredScopes(ctx.config, live.existing);
  let saved: CustomRoleDefinition | null = live.existing;
  if (!live.existing || differences(ctx.config, spec, live.existing).length > 0) {
    const foreign = nonSubscriptionScopes(scopes);
    if (foreign.length > 0) {
      // putCustomRoleDefinition sends subscription scopes only; writing would silently drop these.
      throw new AzureOperationError(
        "conflict",
        `The custom role "${spec.roleName}" is also assignable at ${foreign.join(", ")}, which the portal can't keep. Add the subscriptions to the role in the Azure portal instead.`,
      );
    }
    saved = await ctx.write(
      { key: customRoleKeys.put(live.roleId), kind: live.existing ? "update" : "create", target: `Custom role ${spec.roleName}` },
      // Needs roleDefinitions/write on every assignable scope: Owner or User Access Administrator (RBAC Administrator can't).
      () =>
        putCustomRoleDefinition(ctx.arm, {
          roleId: live.roleId,
          roleName: spec.roleName,
          description: spec.description,
          permissions: spec.permissions.map((p) => ({ ...p })),
          subscriptionIds: scopes.map((s) => SUBSCRIPTION_SCOPE.exec(s)?.[1] ?? s),
        }),
      (r) => r.id,
    );
  }
  return saved ? desiredScopes(ctx.config, saved) : scopes;
}

async function apply(ctx: StepContext, live: CustomRoleLive): Promise<CustomRoleOutput> {
  const total = live.roles.length;
  const scopesByKey = new Map<string, string[]>();
  for (const [i, r] of live.roles.entries()) {
    await ctx.progress({ done: i, total, label: `Custom role ${i + 1} of ${total}` });
    scopesByKey.set(r.key, await applyOne(ctx, r));
  }
  await ctx.progress({ done: total, total, label: `Custom role ${total} of ${total}` });
  const aks = live.roles.find((r) => r.key === AKS_READ_ONLY_ROLE_KEY);
  const roleId = aks?.roleId ?? customRoleId(ctx.tenantId, AKS_READ_ONLY_ROLE_KEY);
  const scopes = scopesByKey.get(AKS_READ_ONLY_ROLE_KEY) ?? desiredScopes(ctx.config, null);
  const first = scopes[0] ?? subscriptionScope(ctx.config.subscriptions[0]?.id ?? "");
  return {
    roleId,
    roleDefinitionId: roleDefinitionIdAt(first, roleId),
    assignableScopes: scopes,
    metadataRoleId:
      live.roles.find((r) => r.key === AKS_CLUSTER_METADATA_ROLE_KEY)?.roleId ?? customRoleId(ctx.tenantId, AKS_CLUSTER_METADATA_ROLE_KEY),
    logAnalyticsRoleId:
      live.roles.find((r) => r.key === LOG_ANALYTICS_QUERY_ROLE_KEY)?.roleId ?? customRoleId(ctx.tenantId, LOG_ANALYTICS_QUERY_ROLE_KEY),
  };
}

async function verifyOne(ctx: StepContext, spec: CustomRoleSpec, roleId: string, scope: string): Promise<string | null> {
  const role = await getCustomRoleDefinition(ctx.arm, scope, roleId);
  if (!role) {
    // New role definitions take minutes to replicate across ARM: a miss right after the PUT is worth retrying.
    throw new AzureOperationError(
      "role_definition_not_found",
      `Azure does not show the custom role "${spec.roleName}" yet (role definitions take a few minutes to replicate). Retry in a few minutes.`,
    );
  }
  const have = new Set(role.assignableScopes.map((s) => s.toLowerCase().replace(/\/+$/, "")));
  const missing = ctx.config.subscriptions.map((s) => subscriptionScope(s.id)).filter((s) => !have.has(s));
  if (missing.length > 0) return `The custom role "${spec.roleName}" is not assignable in ${missing.join(", ")}.`;
  if (normalisedPermissions(role.permissions) !== normalisedPermissions(spec.permissions))
    return `The custom role "${spec.roleName}" has other permissions than the portal's.`;
  return null;
}

async function verify(ctx: StepContext, out: CustomRoleOutput): Promise<VerifyResult> {
  const scope = out.assignableScopes[0] ?? subscriptionScope(ctx.config.subscriptions[0]?.id ?? "");
  const metadataRoleId = out.metadataRoleId ?? customRoleId(ctx.tenantId, AKS_CLUSTER_METADATA_ROLE_KEY);
  const logAnalyticsRoleId = out.logAnalyticsRoleId ?? customRoleId(ctx.tenantId, LOG_ANALYTICS_QUERY_ROLE_KEY);
  const checks: string[] = [];
  for (const [spec, roleId] of [
    [AKS_READ_ONLY_ROLE, out.roleId],
    [AKS_CLUSTER_METADATA_ROLE, metadataRoleId],
    [LOG_ANALYTICS_QUERY_ROLE, logAnalyticsRoleId],
  ] as const) {
    const problem = await verifyOne(ctx, spec, roleId, scope);
    if (problem) return { ok: false, reason: problem };
    checks.push(`Custom role "${spec.roleName}" exists with the portal's permissions`);
  }
  checks.push(`Assignable in ${ctx.config.subscriptions.length} selected subscription(s)`);
  return { ok: true, checks };
}

/** The custom-role step's operation-log key and its parser (the strings are persisted: they never change). */
export const customRoleKeys = {
  put: (roleId: string) => `custom-role.put:${roleId}`,
  parse(key: string): { kind: "put"; roleId: string } | null {
    const k = splitKey(key);
    return k?.head === "custom-role.put" ? { kind: "put", roleId: k.value } : null;
  },
};

/** One of the portal's custom roles as the step writes it, for the change-approval exports. */
export type CustomRoleDescription = DescribedResource<{
  /** The role's key (customRoleId's input). */
  roleKey: string;
  id: string;
  description: string;
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
  assignableScopes: string[];
}>;

/** The portal's custom roles for a run: deterministic ids per tenant, the body the step PUTs. */
export function describeCustomRoles({ tenantId, config }: DescribeInput): CustomRoleDescription[] {
  return CUSTOM_ROLES.map((spec) => {
    const id = customRoleId(tenantId, spec.key);
    const body = customRoleBody({
      roleId: id,
      roleName: spec.roleName,
      description: spec.description,
      permissions: spec.permissions.map((p) => ({ ...p })),
      subscriptionIds: config.subscriptions.map((s) => s.id),
    });
    const permission = spec.permissions[0];
    const assignableScopes = body.assignableScopes ?? [];
    return {
      key: customRoleKeys.put(id),
      resourceType: "Microsoft.Authorization/roleDefinitions",
      name: body.roleName ?? spec.roleName,
      scope: assignableScopes[0] ?? "",
      properties: {
        roleKey: spec.key,
        id,
        description: body.description ?? spec.description,
        actions: [...(permission?.actions ?? [])],
        notActions: [...(permission?.notActions ?? [])],
        dataActions: [...(permission?.dataActions ?? [])],
        notDataActions: [...(permission?.notDataActions ?? [])],
        assignableScopes,
      },
    };
  });
}

/** Removes the custom roles the run created (Azure refuses while an assignment still uses one: role assignments go first). */
export const customRoleRemoval = standardRemoval({
  categories: ["custom-role"],
  categoryOf: (key) => (customRoleKeys.parse(key) ? "custom-role" : null),
  describe: (w) => ({ resourceType: "Custom role", resource: customRoleKeys.parse(w.key)?.roleId ?? "" }),
  describeRemoval: (w) => ({ resourceType: "Custom role", resource: w.target.replace(/^Custom role /, "") }),
  keptType: () => "Change",
  why: {
    "custom-role":
      "A custom role this run created (read-only AKS, cluster metadata only, or Log Analytics queries); removed once no assignment uses it.",
  },
  async resolve(w, _category, ctx) {
    const roleId = customRoleKeys.parse(w.key)?.roleId;
    const first = ctx.config.subscriptions[0];
    if (!first || !roleId) return { state: "absent" };
    const scope = `/subscriptions/${first.id}`;
    if (!(await getCustomRoleDefinition(ctx.arm, scope, roleId))) return { state: "absent" };
    return {
      state: "present",
      live: {
        remove: () => deleteRoleDefinition(ctx.arm, scope, roleId),
        exists: async () => (await getCustomRoleDefinition(ctx.arm, scope, roleId)) !== null,
      },
    };
  },
});

/** The portal's custom roles (lib/steps/*-role.json), deterministic ids per tenant. */
export const customRoleStep: StepModule<CustomRoleLive, CustomRoleOutput> = {
  id: "custom-role",
  removal: customRoleRemoval,
  read,
  plan,
  apply,
  verify,
};
