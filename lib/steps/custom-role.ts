// Step: the read-only AKS custom role, assignable in every selected subscription (scopes only ever grow).
import { mapBounded } from "@/lib/concurrency";
import { AzureOperationError } from "@/lib/azure/errors";
import { getCustomRoleDefinition, type CustomRoleDefinition, type RolePermission } from "@/lib/azure/get-custom-role-definition";
import { customRoleId } from "@/lib/azure/names";
import { putCustomRoleDefinition } from "@/lib/azure/put-custom-role-definition";
import roleJson from "./aks-read-only-role.json";
import type { RunConfig } from "./config";
import type { PlannedChange, StepContext, StepModule, VerifyResult } from "./types";

/** Key of the role in customRoleId(): fixed, so every run in a tenant updates the same role. */
export const AKS_READ_ONLY_ROLE_KEY = "aks-read-only";

const AKS_PERMISSION: RolePermission = {
  actions: roleJson.actions,
  notActions: roleJson.notActions,
  dataActions: roleJson.dataActions,
  notDataActions: roleJson.notDataActions,
};
/** The role as the portal defines it. */
export const AKS_READ_ONLY_ROLE: { roleName: string; description: string; permissions: readonly RolePermission[] } = {
  roleName: roleJson.roleName,
  description: roleJson.description,
  permissions: [AKS_PERMISSION],
};

/** What Azure has now. */
export interface CustomRoleLive {
  roleId: string;
  existing: CustomRoleDefinition | null;
}

/** What the role-assignments step needs. */
export interface CustomRoleOutput {
  roleId: string;
  /** Full id at the first assignable scope. */
  roleDefinitionId: string;
  assignableScopes: string[];
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

/** Property-level differences between the live role and the desired one (empty = no change). */
function differences(config: RunConfig, existing: CustomRoleDefinition): string[] {
  const out: string[] = [];
  const have = new Set(existing.assignableScopes.map((s) => s.toLowerCase().replace(/\/+$/, "")));
  for (const s of desiredScopes(config, existing)) if (!have.has(s)) out.push(`scopes: +${s}`);
  if (existing.roleName !== AKS_READ_ONLY_ROLE.roleName) out.push(`roleName: "${existing.roleName}" → "${AKS_READ_ONLY_ROLE.roleName}"`);
  if (existing.description !== AKS_READ_ONLY_ROLE.description) out.push("description: updated");
  if (normalisedPermissions(existing.permissions) !== normalisedPermissions(AKS_READ_ONLY_ROLE.permissions)) out.push("permissions: reset to the portal's read-only AKS permissions");
  return out;
}

function roleDefinitionIdAt(scope: string, roleId: string): string {
  return `${scope}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

function nonSubscriptionScopes(scopes: string[]): string[] {
  return scopes.filter((s) => !SUBSCRIPTION_SCOPE.test(s));
}

async function read(ctx: StepContext): Promise<CustomRoleLive> {
  const roleId = customRoleId(ctx.tenantId, AKS_READ_ONLY_ROLE_KEY);
  // A custom role is visible at its assignable scopes; any selected subscription that already has it finds it. Usually
  // the first one does (or it doesn't exist); then the others are asked side by side, not one after another.
  const [first, ...rest] = ctx.config.subscriptions.map((s) => subscriptionScope(s.id));
  const atFirst = first ? await getCustomRoleDefinition(ctx.arm, first, roleId) : null;
  if (atFirst) return { roleId, existing: atFirst };
  const others = await mapBounded(rest, 10, (scope) => getCustomRoleDefinition(ctx.arm, scope, roleId));
  return { roleId, existing: others.find((r) => r !== null) ?? null };
}

function plan(ctx: StepContext, live: CustomRoleLive): PlannedChange[] {
  const scopes = desiredScopes(ctx.config, live.existing);
  const base = {
    stepId: "custom-role" as const,
    key: `custom-role.put:${live.roleId}`,
    resourceType: "Custom role",
    resource: AKS_READ_ONLY_ROLE.roleName,
  };
  if (!live.existing) {
    return [
      {
        ...base,
        action: "create",
        why: "Lets the vendor read the selected clusters and their Kubernetes objects, never their secrets.",
        details: [
          ...scopes.map((s) => `scopes: +${s}`),
          `actions: ${AKS_PERMISSION.actions.join(", ")}`,
          `dataActions: ${AKS_PERMISSION.dataActions.join(", ")}`,
          `notDataActions: ${AKS_PERMISSION.notDataActions.join(", ")}`,
        ],
      },
    ];
  }
  const diff = differences(ctx.config, live.existing);
  return [
    {
      ...base,
      action: diff.length > 0 ? "update" : "no-change",
      why: diff.length > 0 ? "The role must be assignable in every selected subscription; existing scopes are kept." : "The role already exists with these permissions and scopes.",
      ...(diff.length > 0 ? { details: diff } : {}),
    },
  ];
}

async function apply(ctx: StepContext, live: CustomRoleLive): Promise<CustomRoleOutput> {
  const scopes = desiredScopes(ctx.config, live.existing);
  await ctx.progress({ done: 0, total: 1, label: "Custom role 1 of 1" });
  let saved: CustomRoleDefinition | null = live.existing;
  if (!live.existing || differences(ctx.config, live.existing).length > 0) {
    const foreign = nonSubscriptionScopes(scopes);
    if (foreign.length > 0) {
      // putCustomRoleDefinition sends subscription scopes only; writing would silently drop these.
      throw new AzureOperationError(
        "conflict",
        `The custom role "${AKS_READ_ONLY_ROLE.roleName}" is also assignable at ${foreign.join(", ")}, which the portal can't keep. Add the subscriptions to the role in the Azure portal instead.`,
      );
    }
    saved = await ctx.write(
      { key: `custom-role.put:${live.roleId}`, kind: live.existing ? "update" : "create", target: `Custom role ${AKS_READ_ONLY_ROLE.roleName}` },
      // Needs roleDefinitions/write on every assignable scope: Owner or User Access Administrator (RBAC Administrator can't).
      () =>
        putCustomRoleDefinition(ctx.arm, {
          roleId: live.roleId,
          roleName: AKS_READ_ONLY_ROLE.roleName,
          description: AKS_READ_ONLY_ROLE.description,
          permissions: AKS_READ_ONLY_ROLE.permissions.map((p) => ({ ...p })),
          subscriptionIds: scopes.map((s) => SUBSCRIPTION_SCOPE.exec(s)?.[1] ?? s),
        }),
      (r) => r.id,
    );
  }
  await ctx.progress({ done: 1, total: 1, label: "Custom role 1 of 1" });
  const first = scopes[0] ?? subscriptionScope(ctx.config.subscriptions[0]?.id ?? "");
  return { roleId: live.roleId, roleDefinitionId: roleDefinitionIdAt(first, live.roleId), assignableScopes: saved ? desiredScopes(ctx.config, saved) : scopes };
}

async function verify(ctx: StepContext, out: CustomRoleOutput): Promise<VerifyResult> {
  const scope = out.assignableScopes[0] ?? subscriptionScope(ctx.config.subscriptions[0]?.id ?? "");
  const role = await getCustomRoleDefinition(ctx.arm, scope, out.roleId);
  if (!role) {
    // New role definitions take minutes to replicate across ARM: a miss right after the PUT is worth retrying.
    throw new AzureOperationError(
      "role_definition_not_found",
      `Azure does not show the custom role "${AKS_READ_ONLY_ROLE.roleName}" yet (role definitions take a few minutes to replicate). Retry in a few minutes.`,
    );
  }
  const have = new Set(role.assignableScopes.map((s) => s.toLowerCase().replace(/\/+$/, "")));
  const missing = ctx.config.subscriptions.map((s) => subscriptionScope(s.id)).filter((s) => !have.has(s));
  if (missing.length > 0) return { ok: false, reason: `The custom role is not assignable in ${missing.join(", ")}.` };
  if (normalisedPermissions(role.permissions) !== normalisedPermissions(AKS_READ_ONLY_ROLE.permissions)) {
    return { ok: false, reason: "The custom role's permissions differ from the portal's read-only AKS role." };
  }
  return { ok: true, checks: [`Custom role "${role.roleName}" exists`, `Assignable in ${ctx.config.subscriptions.length} selected subscription(s)`, "Permissions match"] };
}

/** The read-only AKS custom role (lib/steps/aks-read-only-role.json) with a deterministic id per tenant. */
export const customRoleStep: StepModule<CustomRoleLive, CustomRoleOutput> = {
  id: "custom-role",
  read,
  plan,
  apply,
  verify,
};
