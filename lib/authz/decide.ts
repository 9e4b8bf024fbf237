// Who may do what, decided live with the user's own tokens at the moment of the action: one function per decision.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { AzureOperationError } from "@/lib/azure/errors";
import { mapBounded } from "@/lib/concurrency";
import { listApplicationOwners } from "@/lib/azure/list-application-owners";
import { listMyDirectoryRoles } from "@/lib/azure/list-my-directory-roles";
import { listMyPermissions, type PermissionBlock } from "@/lib/azure/list-my-permissions";
import { allowsAction } from "@/lib/azure/permissions";
import { credentialFor, TokenUnavailableError, type TokenProvider } from "@/lib/auth/tokens";
import type { RunConfig } from "@/lib/steps/config";
import { stepById, type StepId } from "@/lib/steps/registry";
import {
  APP_CREDENTIALS,
  APP_MANAGER_ROLES,
  CONSENT_ROLES,
  OFFBOARD_REQUIREMENTS,
  STEP_REQUIREMENTS,
  type Requirement,
  type SubscriptionSet,
} from "./requirements";

/** The answer to "may this user do this now": a refusal names what is missing and who can act. */
export type Decision = { allowed: true } | { allowed: false; code: "not_permitted" | "reauth_required" | "check_failed"; message: string };

/** The user and their tokens; `objectId` is their Entra object id (ownership of the app is compared with it). */
export interface Actor {
  objectId: string;
  tokens: TokenProvider;
}

/** The subscriptions and app a run touches: what a decision reads permissions on. */
export interface RunScope {
  storageSubscriptions: string[];
  clusterSubscriptions: string[];
  appUniqueName: string;
  subscriptionNames: Map<string, string>;
}

/** The scope of a run's configuration. */
export function runScope(config: RunConfig): RunScope {
  return {
    storageSubscriptions: unique(config.storage.map((s) => s.subscriptionId)),
    clusterSubscriptions: unique(config.clusters.map((c) => c.subscriptionId)),
    appUniqueName: config.vendor.appUniqueName,
    subscriptionNames: new Map(config.subscriptions.map((s) => [s.id.toLowerCase(), s.displayName])),
  };
}

/**
 * Reads behind the decisions, each made at most once per probe: a page that decides four things reads each subscription's
 * permissions once. A probe lives for one request or one action; nothing is cached across them.
 */
export class PermissionProbe {
  private readonly permissions = new Map<string, Promise<PermissionBlock[]>>();
  private roles?: Promise<string[]>;
  private readonly owners = new Map<string, Promise<string[] | null>>();
  private readonly arm: TokenCredential;
  private readonly graph: TokenCredential;
  private signInFailure?: TokenUnavailableError;

  constructor(readonly actor: Actor) {
    const remember = (e: TokenUnavailableError) => {
      this.signInFailure = e;
    };
    this.arm = credentialFor(actor.tokens, "arm", remember);
    this.graph = credentialFor(actor.tokens, "graph", remember);
  }

  permissionsAt(subscriptionId: string): Promise<PermissionBlock[]> {
    const key = subscriptionId.toLowerCase();
    let found = this.permissions.get(key);
    if (!found) this.permissions.set(key, (found = listMyPermissions(this.arm, subscriptionId)));
    return found;
  }

  directoryRoles(): Promise<string[]> {
    return (this.roles ??= listMyDirectoryRoles(this.graph).then((rs) => rs.map((r) => r.roleTemplateId)));
  }

  appOwners(uniqueName: string): Promise<string[] | null> {
    let found = this.owners.get(uniqueName);
    if (!found) this.owners.set(uniqueName, (found = listApplicationOwners(this.graph, uniqueName)));
    return found;
  }

  /** What to tell the user when a read behind a decision failed. */
  refusalFor(error: unknown): Decision {
    const signIn = this.signInFailure ?? (error instanceof TokenUnavailableError ? error : undefined);
    if (signIn) return { allowed: false, code: "reauth_required", message: signIn.message };
    if (error instanceof AzureOperationError) {
      if (error.code === "reauth_required") return { allowed: false, code: "reauth_required", message: error.message };
      return {
        allowed: false,
        code: "check_failed",
        message: `The portal could not check your permissions, so it did nothing. ${error.message}`,
      };
    }
    throw error;
  }
}

const ALLOWED: Decision = { allowed: true };

function unique(values: string[]): string[] {
  return [...new Map(values.map((v) => [v.toLowerCase(), v])).values()];
}

function subscriptionsOf(scope: RunScope, on: SubscriptionSet): string[] {
  if (on === "storage") return scope.storageSubscriptions;
  if (on === "clusters") return scope.clusterSubscriptions;
  return unique([...scope.storageSubscriptions, ...scope.clusterSubscriptions]);
}

function nameOf(scope: RunScope, subscriptionId: string): string {
  return scope.subscriptionNames.get(subscriptionId.toLowerCase()) ?? subscriptionId;
}

/** The first requirement the user doesn't meet, in words; null when all are met. */
async function firstUnmet(
  probe: PermissionProbe,
  scope: RunScope,
  requirements: readonly Requirement[],
  what: string,
): Promise<string | null> {
  for (const r of requirements) {
    if (r.kind === "arm") {
      const subs = subscriptionsOf(scope, r.on);
      // Bounded like the estate's reads: a tenant of 150 subscriptions must not send 150 permission reads at once.
      const all = await mapBounded(subs, 6, (sub) => probe.permissionsAt(sub));
      for (const [i, sub] of subs.entries()) {
        const blocks = all[i] ?? [];
        const missing = r.actions.filter((a) => !blocks.some((b) => allowsAction(b, a)));
        if (missing.length > 0) {
          return `${what} needs ${r.roles} on the subscription ${nameOf(scope, sub)} (you lack ${missing.join(", ")}). Ask an Owner of that subscription to do it, or to grant you the role.`;
        }
      }
    } else {
      const roles = await probe.directoryRoles();
      const pool: readonly string[] = r.kind === "entra-consent" ? CONSENT_ROLES : APP_MANAGER_ROLES;
      if (roles.some((id) => pool.includes(id))) continue;
      if (r.kind === "entra-app") {
        const owners = await probe.appOwners(scope.appUniqueName);
        if (owners?.includes(probe.actor.objectId.toLowerCase())) continue;
      }
      return `${what} needs ${r.roles} in Microsoft Entra ID. Ask a Cloud Application Administrator or Global Administrator of your tenant to do it.`;
    }
  }
  return null;
}

async function decide(probe: PermissionProbe, scope: RunScope, requirements: readonly Requirement[], what: string): Promise<Decision> {
  try {
    const unmet = await firstUnmet(probe, scope, requirements, what);
    return unmet ? { allowed: false, code: "not_permitted", message: unmet } : ALLOWED;
  } catch (error) {
    return probe.refusalFor(error);
  }
}

/** Viewing a run (status, audit trail, exports of the plan, asking another admin): any user of the run's tenant. */
export function mayViewRun(user: { tenantId: string }, run: { tenantId: string }): boolean {
  return user.tenantId.toLowerCase() === run.tenantId.toLowerCase();
}

/** Preparing, changing or extending a plan: the user could run its first step (storage) in the chosen subscriptions. */
export function mayPlanRun(probe: PermissionProbe, scope: RunScope): Promise<Decision> {
  return decide(probe, scope, STEP_REQUIREMENTS.storage, "Preparing an onboarding plan");
}

/** Whether the user could run the step `id` in the run's scope. */
export function mayRunStep(probe: PermissionProbe, scope: RunScope, id: StepId): Promise<Decision> {
  return decide(probe, scope, STEP_REQUIREMENTS[id], `The step "${stepById(id).title}"`);
}

/**
 * Confirming, retrying or resuming: the user could run at least one of the steps the engine starts (`starting`, side
 * by side on the step graph). A step they can't run fails with the admin it needs named ("Ask another admin"), while
 * theirs go on; requiring every one would stop an Owner whenever an Entra admin's step is also waiting.
 */
export async function mayRunAnyStep(probe: PermissionProbe, scope: RunScope, starting: readonly StepId[]): Promise<Decision> {
  const refusals: Exclude<Decision, { allowed: true }>[] = [];
  for (const id of starting.length > 0 ? starting : (["verification"] as const)) {
    const decision = await mayRunStep(probe, scope, id);
    if (decision.allowed) return decision;
    // A sign-in or read problem is the same for every step: say it once.
    if (decision.code !== "not_permitted") return decision;
    refusals.push(decision);
  }
  return { allowed: false, code: "not_permitted", message: refusals.map((r) => r.message).join(" ") };
}

/** Revealing, acknowledging, rotating the vendor's client secret, or re-running verification (it adds a short-lived one). */
export function mayManageCredential(probe: PermissionProbe, scope: RunScope): Promise<Decision> {
  return decide(probe, scope, [APP_CREDENTIALS], "Managing the vendor app's client secret");
}

/** Removing what a run created: delete rights for every kind of object it made, and the app. */
export function mayOffboardRun(probe: PermissionProbe, scope: RunScope): Promise<Decision> {
  return decide(probe, scope, OFFBOARD_REQUIREMENTS, "Removing what this run created");
}
