// The gate every customer action passes before it reads or writes anything of a run: tenant, lifecycle, live authorization.
import "server-only";
import { log } from "@/lib/log";
import { failure, type ActionResult } from "@/lib/action-result";
import { ACTION_DECISIONS, type ActionName, type DecisionName } from "@/lib/authz/actions";
import {
  mayManageCredential,
  mayOffboardRun,
  mayPlanRun,
  mayRunAnyStep,
  PermissionProbe,
  runScope,
  type Decision,
  type RunScope,
} from "@/lib/authz/decide";
import type { SessionWithUser } from "@/lib/db/sessions";
import { startableSteps } from "@/lib/steps/registry";
import { sessionTokens, type TokenProvider } from "@/lib/auth/tokens";
import { actionAllowedIn, lifecycleRefusal } from "./lifecycle";
import { getRunView, type RunView } from "./run-control";

const NOT_YOURS = "This onboarding run doesn't exist or belongs to another tenant.";

/** The actions that plan before a run exists. */
export type PlanActionName = "checkStorageNameAction" | "createRunAction";
/** The actions on an existing run. */
export type RunActionName = Exclude<ActionName, PlanActionName>;
/** The subscriptions a new plan would touch. */
export type PlanScope = Pick<RunScope, "storageSubscriptions" | "clusterSubscriptions"> & { subscriptionNames?: Map<string, string> };

/** A probe of the signed-in user's live permissions (one per request or action). */
export function probeFor(session: SessionWithUser, tokens: TokenProvider = sessionTokens(session)): PermissionProbe {
  return new PermissionProbe({ objectId: session.user.objectId, tokens });
}

/** The decision named `name` for a run. */
export function decideForRun(name: DecisionName, probe: PermissionProbe, view: RunView): Promise<Decision> {
  const scope = runScope(view.config);
  switch (name) {
    case "view":
      return Promise.resolve({ allowed: true });
    case "plan":
      return mayPlanRun(probe, scope);
    case "run-step":
      return mayRunAnyStep(probe, scope, startableSteps(view.run.steps));
    case "credential":
      return mayManageCredential(probe, scope);
    case "offboard":
      return mayOffboardRun(probe, scope);
  }
}

function refusal(session: SessionWithUser, action: ActionName, decision: Exclude<Decision, { allowed: true }>): ActionResult<never> {
  // Logged, not audited: a refused attempt writes nothing to the database (the audit trail records what was done).
  log().warn(
    { event: "authz.refused", action, code: decision.code, tenantId: session.user.tenantId, objectId: session.user.objectId },
    `refused ${action}: ${decision.code}`,
  );
  return failure(decision.message, { code: decision.code === "reauth_required" ? "reauth_required" : "not_permitted" });
}

/**
 * The run for a customer action, if the user may do it now: the run is their tenant's, its status allows the action,
 * and their live Azure/Entra roles allow what the action does (ACTION_DECISIONS).
 */
export async function authorizeRunAction(
  session: SessionWithUser,
  action: RunActionName,
  runId: string,
  tokens?: TokenProvider,
): Promise<{ ok: true; view: RunView } | { ok: false; failure: ActionResult<never> }> {
  const view = await getRunView(session, runId);
  if (!view) return { ok: false, failure: failure(NOT_YOURS, { code: "forbidden" }) };
  if (!actionAllowedIn(action, view.run.status))
    return { ok: false, failure: failure(lifecycleRefusal(view.run.status, action), { code: "conflict" }) };
  const decision = await decideForRun(ACTION_DECISIONS[action], probeFor(session, tokens), view);
  return decision.allowed ? { ok: true, view } : { ok: false, failure: refusal(session, action, decision) };
}

/** A new plan in the given subscriptions (no run yet): the user could run its first step there. */
export async function authorizePlanAction(
  session: SessionWithUser,
  action: PlanActionName,
  scope: PlanScope,
  tokens?: TokenProvider,
): Promise<{ ok: true } | { ok: false; failure: ActionResult<never> }> {
  const decision = await mayPlanRun(probeFor(session, tokens), { appUniqueName: "", subscriptionNames: new Map(), ...scope });
  return decision.allowed ? { ok: true } : { ok: false, failure: refusal(session, action, decision) };
}

/** The run page's controls: which the user may use now, decided as the actions will decide them. */
export interface RunControls {
  continue: Decision | null;
  credential: Decision | null;
  extend: Decision | null;
  offboard: Decision | null;
}

/** Decisions for the controls the run's status offers (one probe: each subscription's permissions are read once). */
export async function runControls(session: SessionWithUser, view: RunView, tokens?: TokenProvider): Promise<RunControls> {
  const probe = probeFor(session, tokens);
  const status = view.run.status;
  const when = (action: keyof typeof ACTION_DECISIONS & Parameters<typeof actionAllowedIn>[0]) =>
    actionAllowedIn(action, status) ? decideForRun(ACTION_DECISIONS[action], probe, view) : Promise.resolve(null);
  const [cont, credential, extend, offboard] = await Promise.all([
    when("continueRunAction"),
    when("rotateSecretAction").then((d) => d ?? when("revealSecretAction")),
    when("extendCoverageAction"),
    when("startOffboardingAction"),
  ]);
  return { continue: cont, credential, extend, offboard };
}
