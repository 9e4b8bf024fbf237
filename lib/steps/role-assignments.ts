// Step: the vendor's service principal gets Log Analytics Reader and the AKS role per subscription, and Storage Blob Data
// Reader limited (ABAC) to the audit storage accounts.
import { z } from "zod";
import { mapPerGroupSettled } from "@/lib/concurrency";
import { createRoleAssignment, fullRoleDefinitionId } from "@/lib/azure/create-role-assignment";
import { AzureOperationError } from "@/lib/azure/errors";
import { getApplicationByUniqueName } from "@/lib/azure/get-application-by-unique-name";
import { getServicePrincipalByAppId } from "@/lib/azure/get-service-principal-by-app-id";
import { listRoleAssignmentsAtScope, type RoleAssignmentInfo } from "@/lib/azure/list-role-assignments-at-scope";
import { customRoleId, roleAssignmentName } from "@/lib/azure/names";
import { subscriptionOf } from "@/lib/azure/provisioning-clients";
import { BUILTIN_ROLE_IDS, roleGuid } from "@/lib/azure/role-ids";
import { blobReadCondition, CONDITION_VERSION } from "./abac";
import type { RunConfig } from "./config";
import { retryWriteOnReplication } from "./replication-retry";
import { AKS_READ_ONLY_ROLE, AKS_READ_ONLY_ROLE_KEY } from "./custom-role";
import type { ChangeAction, PlannedChange, StepContext, StepModule, VerifyResult } from "./types";

/** One assignment the vendor needs. */
export interface DesiredAssignment {
  scope: string;
  roleName: string;
  roleGuid: string;
  condition?: string;
}

/** What Azure has now: the principal (null until the app registration exists) and its assignments at the scopes. */
export interface RoleAssignmentsLive {
  principalId: string | null;
  roleId: string;
  desired: DesiredAssignment[];
  /** The principal's assignments exactly at each desired scope (lower-case scope → assignments). */
  existing: Record<string, RoleAssignmentInfo[]>;
}

/** One assignment as made (or adopted). */
export interface RoleAssignmentOutputItem {
  scope: string;
  roleName: string;
  roleDefinitionId: string;
  name: string;
  condition?: string;
}

/** The step's output: every assignment the vendor holds for this run. */
export interface RoleAssignmentsOutput {
  assignments: RoleAssignmentOutputItem[];
}

/** What a desired assignment needs: nothing, a new one, a condition fix under our name, or an admin's attention. */
export type AssignmentDecision =
  | { kind: "no-change" | "adopt"; existing: RoleAssignmentInfo }
  | { kind: "create"; name: string | null }
  | { kind: "update"; existing: RoleAssignmentInfo }
  | { kind: "conflict"; existing: RoleAssignmentInfo };

const appOutputSchema = z.object({ servicePrincipalId: z.string().min(1) });
const customRoleOutputSchema = z.object({ roleId: z.string().min(1) });
const storageOutputSchema = z.object({
  accounts: z.array(z.object({ name: z.string().optional(), accountName: z.string().optional(), subscriptionId: z.string().optional(), id: z.string().optional() })),
});

function scopeOf(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId.toLowerCase()}`;
}

function same(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? "").toLowerCase() === (b ?? "").toLowerCase();
}

/** The audit storage accounts by subscription: the storage step's outputs when present, else the run's configuration. */
export function storageAccountsBySubscription(config: RunConfig, storageOutput: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (sub: string, name: string) => out.set(sub.toLowerCase(), [...(out.get(sub.toLowerCase()) ?? []), name]);
  const parsed = storageOutputSchema.safeParse(storageOutput);
  const fromOutput = parsed.success
    ? parsed.data.accounts.flatMap((a) => {
        const name = a.name ?? a.accountName;
        const sub = a.subscriptionId ?? /^\/subscriptions\/([^/]+)/i.exec(a.id ?? "")?.[1];
        return name && sub ? [{ name, sub }] : [];
      })
    : [];
  const source = fromOutput.length > 0 ? fromOutput : config.storage.map((s) => ({ name: s.accountName, sub: s.subscriptionId }));
  for (const a of source) add(a.sub, a.name);
  return out;
}

/** Every assignment the vendor needs, in plan order. */
export function desiredAssignments(config: RunConfig, roleId: string, storageOutput?: unknown): DesiredAssignment[] {
  const out: DesiredAssignment[] = [];
  for (const s of config.subscriptions) {
    out.push({ scope: scopeOf(s.id), roleName: "Log Analytics Reader", roleGuid: BUILTIN_ROLE_IDS.logAnalyticsReader });
    out.push({ scope: scopeOf(s.id), roleName: AKS_READ_ONLY_ROLE.roleName, roleGuid: roleId });
  }
  for (const [sub, names] of storageAccountsBySubscription(config, storageOutput)) {
    // Conditions gate DataActions only, so one subscription-wide assignment per subscription lists all its audit accounts.
    out.push({ scope: scopeOf(sub), roleName: "Storage Blob Data Reader", roleGuid: BUILTIN_ROLE_IDS.storageBlobDataReader, condition: blobReadCondition(names) });
  }
  return out;
}

function sameCondition(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? null) === (b ?? null);
}

/** Compare one desired assignment with the principal's assignments at its scope. */
export function decide(d: DesiredAssignment, principalId: string | null, atScope: RoleAssignmentInfo[]): AssignmentDecision {
  if (!principalId) return { kind: "create", name: null };
  const name = roleAssignmentName(d.scope, principalId, d.roleGuid);
  const matches = atScope.filter((a) => same(a.principalId, principalId) && same(a.roleDefinitionGuid, d.roleGuid) && same(a.scope.replace(/\/+$/, ""), d.scope));
  const exact = matches.find((a) => sameCondition(a.condition, d.condition));
  if (exact) return { kind: same(exact.name, name) ? "no-change" : "adopt", existing: exact };
  const ours = matches.find((a) => same(a.name, name));
  if (ours) return { kind: "update", existing: ours };
  const other = matches[0];
  if (other) return { kind: "conflict", existing: other };
  return { kind: "create", name };
}

async function principalOf(ctx: StepContext): Promise<string | null> {
  const fromOutput = appOutputSchema.safeParse(ctx.outputs["app-registration"]);
  if (fromOutput.success) return fromOutput.data.servicePrincipalId;
  // Planning before the app registration step ran: look the principal up; absent means every assignment is new.
  const app = await getApplicationByUniqueName(ctx.graph, ctx.config.vendor.appUniqueName);
  if (!app) return null;
  return (await getServicePrincipalByAppId(ctx.graph, app.appId))?.id ?? null;
}

function roleIdOf(ctx: StepContext): string {
  const fromOutput = customRoleOutputSchema.safeParse(ctx.outputs["custom-role"]);
  return fromOutput.success ? fromOutput.data.roleId : customRoleId(ctx.tenantId, AKS_READ_ONLY_ROLE_KEY);
}

// ARM's read and write budgets are per subscription: every subscription at once, at most this many in flight in each
// (far inside the 200-write burst; a run makes at most 3 assignments per subscription).
const PER_SUBSCRIPTION_CONCURRENCY = 10;

async function listAt(ctx: StepContext, scopes: string[], principalId: string): Promise<Record<string, RoleAssignmentInfo[]>> {
  const lists = await mapPerGroupSettled(scopes, subscriptionOf, PER_SUBSCRIPTION_CONCURRENCY, async (scope) =>
    (await listRoleAssignmentsAtScope(ctx.arm, scope, principalId)).filter((a) => same(a.scope.replace(/\/+$/, ""), scope)),
  );
  return Object.fromEntries(scopes.map((scope, i) => [scope, lists[i] ?? []]));
}

function keyOf(d: DesiredAssignment): string {
  return `role-assignments.${d.roleGuid}:${d.scope}`;
}

async function read(ctx: StepContext): Promise<RoleAssignmentsLive> {
  const roleId = roleIdOf(ctx);
  const desired = desiredAssignments(ctx.config, roleId, ctx.outputs.storage);
  const principalId = await principalOf(ctx);
  const scopes = [...new Set(desired.map((d) => d.scope))];
  const existing = principalId ? await listAt(ctx, scopes, principalId) : {};
  return { principalId, roleId, desired, existing };
}

const WHY: Record<string, string> = {
  [BUILTIN_ROLE_IDS.logAnalyticsReader]: "Lets the vendor query Log Analytics in this subscription.",
  [BUILTIN_ROLE_IDS.storageBlobDataReader]: "Lets the vendor read audit log blobs, only in the audit storage accounts (ABAC condition).",
};

function plan(ctx: StepContext, live: RoleAssignmentsLive): PlannedChange[] {
  return live.desired.map((d) => {
    const decision = decide(d, live.principalId, live.existing[d.scope] ?? []);
    const action: ChangeAction = decision.kind === "conflict" ? "update" : decision.kind;
    const details: string[] = [];
    if (decision.kind === "create" && d.condition) details.push(`condition: ${d.condition}`);
    if (decision.kind === "update") details.push(`condition: ${decision.existing.condition ?? "(none)"} → ${d.condition ?? "(none)"}`);
    if (decision.kind === "conflict") {
      details.push(`assignment ${decision.existing.name} has condition: ${decision.existing.condition ?? "(none)"}`, `wanted: ${d.condition ?? "(none)"}`);
    }
    const why =
      decision.kind === "conflict"
        ? "An assignment of this role to the vendor exists under another name with a different condition; the portal won't change it. Remove it in the Azure portal and apply again."
        : decision.kind === "adopt"
          ? "The vendor already holds this role here (assigned outside this portal); it is kept."
          : (WHY[d.roleGuid] ?? "Lets the vendor read the selected AKS clusters, never their secrets.");
    return {
      stepId: "role-assignments" as const,
      key: keyOf(d),
      action,
      resourceType: "Role assignment",
      resource: `${d.roleName} at ${d.scope}`,
      why,
      ...(details.length > 0 ? { details } : {}),
    };
  });
}

async function apply(ctx: StepContext, live: RoleAssignmentsLive): Promise<RoleAssignmentsOutput> {
  const principalId = live.principalId ?? (await principalOf(ctx));
  if (!principalId) {
    throw new AzureOperationError("not_found", "The vendor's service principal does not exist yet, so the portal could not assign its roles. Run the App registration step first.");
  }
  // Planned before the principal existed: read its assignments now (a retried run may already have made some).
  const existing = live.principalId ? live.existing : await listAt(ctx, [...new Set(live.desired.map((d) => d.scope))], principalId);
  const total = live.desired.length;
  const conflicts: string[] = [];
  let done = 0;
  await ctx.progress({ done, total, label: `Role assignments 0 of ${total}` });
  // Independent assignments run side by side (bounded per subscription); every one settles before a failure is thrown.
  const settled = await mapPerGroupSettled(live.desired, (d) => subscriptionOf(d.scope), PER_SUBSCRIPTION_CONCURRENCY, async (d): Promise<{ item?: RoleAssignmentOutputItem; error?: unknown }> => {
    const roleDefinitionId = fullRoleDefinitionId(d.scope, d.roleGuid);
    const decision = decide(d, principalId, existing[d.scope] ?? []);
    const item = (name: string): RoleAssignmentOutputItem => ({ scope: d.scope, roleName: d.roleName, roleDefinitionId, name, ...(d.condition ? { condition: d.condition } : {}) });
    const finish = async <T,>(r: T): Promise<T> => {
      done += 1;
      await ctx.progress({ done, total, label: `Role assignments ${done} of ${total}` });
      return r;
    };
    if (decision.kind === "no-change" || decision.kind === "adopt") return finish({ item: item(decision.existing.name) });
    if (decision.kind === "conflict") {
      conflicts.push(`${d.roleName} at ${d.scope} (assignment ${decision.existing.name})`);
      return finish({});
    }
    const name = decision.kind === "update" ? decision.existing.name : roleAssignmentName(d.scope, principalId, d.roleGuid);
    try {
      // A custom role or principal younger than ARM's replication fails just this PUT: retry it alone, not the step.
      const kind = decision.kind;
      const saved = await retryWriteOnReplication(ctx, () =>
        ctx.write({ key: keyOf(d), kind, target: `${d.roleName} at ${d.scope}` }, () => assign(ctx, d, principalId, name), (a) => a.id),
      );
      return finish({ item: item(saved.name) });
    } catch (error) {
      return { error };
    }
  });
  const failed = settled.find((r) => r.error !== undefined);
  if (failed) throw failed.error;
  const assignments = settled.flatMap((r) => (r.item ? [r.item] : []));
  if (conflicts.length > 0) {
    throw new AzureOperationError(
      "role_assignment_conflict",
      `The vendor already holds ${conflicts.join("; ")} with a different condition, so the portal could not limit it to the audit storage accounts. Remove that assignment in the Azure portal and apply again.`,
    );
  }
  return { assignments };
}

/**
 * PUT under the deterministic name. RoleAssignmentExists (same principal, role and scope under another name, e.g. a read
 * that missed it) is success once that assignment is confirmed to carry exactly the wanted condition.
 */
async function assign(ctx: StepContext, d: DesiredAssignment, principalId: string, name: string): Promise<RoleAssignmentInfo> {
  try {
    return await createRoleAssignment(ctx.arm, { scope: d.scope, roleDefinitionId: d.roleGuid, principalId, name, ...(d.condition ? { condition: d.condition } : {}) });
  } catch (error) {
    if (!(error instanceof AzureOperationError) || error.code !== "role_assignment_exists") throw error;
    const atScope = (await listAt(ctx, [d.scope], principalId))[d.scope] ?? [];
    const decision = decide(d, principalId, atScope);
    if (decision.kind === "no-change" || decision.kind === "adopt") return decision.existing;
    throw new AzureOperationError(
      "role_assignment_conflict",
      `Azure reports that the vendor already holds ${d.roleName} at ${d.scope}, but not with the wanted condition. Remove that assignment in the Azure portal and apply again.`,
      error.azureCode,
      error.status,
    );
  }
}

async function verify(ctx: StepContext, out: RoleAssignmentsOutput): Promise<VerifyResult> {
  const principalId = await principalOf(ctx);
  if (!principalId) return { ok: false, reason: "The vendor's service principal was not found." };
  const scopes = [...new Set(out.assignments.map((a) => a.scope))];
  const live = await listAt(ctx, scopes, principalId);
  const checks: string[] = [];
  const wanted = desiredAssignments(ctx.config, roleIdOf(ctx), ctx.outputs.storage);
  for (const d of wanted) {
    const made = out.assignments.some((a) => same(a.scope, d.scope) && same(roleGuid(a.roleDefinitionId), d.roleGuid) && sameCondition(a.condition, d.condition));
    if (!made) return { ok: false, reason: `The ${d.roleName} assignment at ${d.scope} was not made.` };
  }
  for (const a of out.assignments) {
    const found = (live[a.scope] ?? []).find((x) => same(x.name, a.name));
    if (!found) return { ok: false, reason: `The ${a.roleName} assignment at ${a.scope} is missing.` };
    if (!same(found.principalId, principalId) || !same(roleGuid(found.roleDefinitionId), roleGuid(a.roleDefinitionId))) {
      return { ok: false, reason: `The assignment ${a.name} at ${a.scope} is for another principal or role.` };
    }
    if (!sameCondition(found.condition, a.condition)) return { ok: false, reason: `The ${a.roleName} assignment at ${a.scope} has a different condition.` };
    if (a.condition && found.conditionVersion !== CONDITION_VERSION) return { ok: false, reason: `The ${a.roleName} assignment at ${a.scope} has condition version ${found.conditionVersion ?? "(none)"}.` };
    checks.push(`${a.roleName} at ${a.scope}${a.condition ? " (limited to the audit storage accounts)" : ""}`);
  }
  return { ok: true, checks };
}

/** Role assignments for the vendor's service principal, with deterministic names and the storage ABAC condition. */
export const roleAssignmentsStep: StepModule<RoleAssignmentsLive, RoleAssignmentsOutput> = {
  id: "role-assignments",
  read,
  plan,
  apply,
  verify,
};
