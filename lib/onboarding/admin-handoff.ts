// "Ask another admin": when a step needs a role the acting admin lacks, a prepared request (link, message, mailto) to a
// colleague of the same tenant, recorded as an audit event; the colleague sees who asked and continues with their own token.
import "server-only";
import { failure, type ActionResult } from "@/lib/action-result";
import { listRecentRunEvents, recordAuditEvent, type AuditEvent } from "@/lib/db/audit";
import type { SessionWithUser } from "@/lib/db/sessions";
import type { StepRun } from "@/lib/db/step-runs";
import { env } from "@/lib/env";
import { maskText } from "@/lib/presenter";
import { stepById, STEP_IDS, type StepId } from "@/lib/steps/registry";
import { getRunView, runViewFor, type RunView } from "./run-control";

/** The audit action of a request; its detail names the step and role. */
export const HANDOFF_REQUESTED = "run.handoff_requested";

/** Who can finish a step when the error didn't say (every 403 mapped in lib/azure names them; this is the fallback). */
const DEFAULT_ROLES: Record<StepId, { requiredRole: string; whoCanAct: string }> = {
  storage: {
    requiredRole: "Contributor on the resource groups of the audit storage accounts",
    whoCanAct: "an Owner or Contributor of the subscription",
  },
  "diagnostic-settings": {
    requiredRole: "Monitoring Contributor on the clusters and Contributor on the storage accounts",
    whoCanAct: "an Owner or Contributor of the subscription",
  },
  "app-registration": {
    requiredRole: "Cloud Application Administrator or Application Administrator",
    whoCanAct: "a Cloud Application Administrator or Global Administrator of the tenant",
  },
  "custom-role": {
    requiredRole: "Owner or User Access Administrator on every selected subscription",
    whoCanAct: "an Owner of the subscriptions",
  },
  "role-assignments": {
    requiredRole: "Owner or User Access Administrator on every selected subscription",
    whoCanAct: "an Owner of the subscriptions",
  },
  "workbench-handoff": { requiredRole: "an admin of this tenant", whoCanAct: "any admin of this tenant" },
  // A re-run adds a one-hour verification secret to the app.
  verification: {
    requiredRole: "owner of the app registration, or Cloud Application Administrator",
    whoCanAct: "a Cloud Application Administrator or Global Administrator of the tenant",
  },
};

/** A request recorded for the step's current stop. */
export interface HandoffRequest {
  at: Date;
  byUpn: string;
}

/** What the run page shows about a step that needs another admin. */
export interface AdminHandoffView {
  /** The first stuck step in display order; stepIds: every step waiting for another admin. */
  stepId: StepId;
  stepIds: StepId[];
  /** The stuck steps' titles, in display order. */
  stepTitles: string[];
  requiredRole: string;
  whoCanAct: string;
  /** Absolute link to the run: sign-in keeps it as the return address. */
  link: string;
  /** The text to send: role needed, what to click, the link. */
  message: string;
  mailto: string;
  request: HandoffRequest | null;
  /** The viewer is not the one who asked: show the "asked you to continue" banner. */
  askedByOther: boolean;
}

// Independent steps run side by side, so two can wait for other admins at once (the app registration for an Entra role,
// the custom roles for Owner): one request names them all, in display order.
function stuckSteps(steps: StepRun[]): StepRun[] {
  return steps
    .filter((s) => s.status === "needs_admin" && (STEP_IDS as readonly string[]).includes(s.stepId))
    .sort((a, b) => STEP_IDS.indexOf(a.stepId as StepId) - STEP_IDS.indexOf(b.stepId as StepId));
}

function rolesOf(step: StepRun): { requiredRole: string; whoCanAct: string } {
  const fallback = DEFAULT_ROLES[step.stepId as StepId];
  return { requiredRole: step.error?.requiredRole ?? fallback.requiredRole, whoCanAct: step.error?.whoCanAct ?? fallback.whoCanAct };
}

const joinDistinct = (parts: string[]) => [...new Set(parts)].join(" and ");

/** Step titles in quotes, joined: “App registration” and “Read-only AKS role”. */
export function quotedTitles(titles: readonly string[], open = "“", close = "”"): string {
  return joinDistinct(titles.map((t) => `${open}${t}${close}`));
}

/** The stuck steps' titles, and their roles as one text each (X and Y; a role two steps share is named once). */
function combined(stuck: StepRun[]): { stepTitles: string[]; requiredRole: string; whoCanAct: string } {
  const join = joinDistinct;
  return {
    stepTitles: stuck.map((s) => stepById(s.stepId as StepId).title),
    requiredRole: join(stuck.map((s) => rolesOf(s).requiredRole)),
    whoCanAct: join(stuck.map((s) => rolesOf(s).whoCanAct)),
  };
}

function requestDetail(e: AuditEvent): { stepId?: unknown } {
  return e.detail !== null && typeof e.detail === "object" && !Array.isArray(e.detail) ? e.detail : {};
}

/**
 * The latest request for this stop of the stuck steps: one made before the last of them stopped belongs to an earlier
 * stop (a step that stopped after it was not in the request).
 */
async function currentRequest(scope: { tenantId: string; runId: string }, stuck: StepRun[]): Promise<HandoffRequest | null> {
  const stoppedAt = (s: StepRun) => s.finishedAt ?? s.updatedAt;
  const since = stuck.map(stoppedAt).reduce((a, b) => (b > a ? b : a));
  const ids = new Set(stuck.map((s) => s.stepId));
  const recent = await listRecentRunEvents(scope, HANDOFF_REQUESTED, since);
  const last = recent.find((e) => e.outcome === "success" && ids.has(String(requestDetail(e).stepId)));
  return last ? { at: last.at, byUpn: last.actorUpn } : null;
}

/** The prepared message for the colleague; plain text, no ids beyond the run's own link. */
export function handoffMessage(input: {
  stepTitles: readonly string[];
  requiredRole: string;
  link: string;
  vendorName: string;
  fromUpn: string;
}): string {
  return [
    `Hi, the AKS onboarding for ${input.vendorName} stopped at ${quotedTitles(input.stepTitles, '"', '"')}: it needs ${input.requiredRole}, which I don't have.`,
    `Could you open this link, sign in with your admin account and click Continue? ${input.stepTitles.length > 1 ? "The steps then run" : "The step then runs"} with your permissions.`,
    input.link,
    `— ${input.fromUpn}`,
  ].join("\n\n");
}

/** The view of the run's stuck step, or null when no step needs another admin (or the run isn't the session's tenant's). */
export async function getAdminHandoff(
  session: SessionWithUser,
  runId: string,
  options: { presenter?: boolean; view?: RunView | null } = {},
): Promise<AdminHandoffView | null> {
  const view = await runViewFor(session, runId, options.view);
  if (!view) return null;
  const stuck = stuckSteps(view.run.steps);
  const [step] = stuck;
  if (!step) return null;
  const shown = options.presenter ? maskText : (text: string) => text;
  const { stepTitles, requiredRole, whoCanAct } = combined(stuck);
  const request = await currentRequest({ tenantId: session.user.tenantId, runId }, stuck);
  const link = `${env().PORTAL_URL}/onboarding/${runId}`;
  const message = handoffMessage({
    stepTitles,
    requiredRole: shown(requiredRole),
    link,
    vendorName: view.config.vendor.name,
    fromUpn: request?.byUpn ?? session.user.upn,
  });
  const subject = `Please continue the AKS onboarding: needs ${shown(requiredRole)}`;
  return {
    stepId: step.stepId as StepId,
    stepIds: stuck.map((s) => s.stepId as StepId),
    stepTitles,
    requiredRole: shown(requiredRole),
    whoCanAct: shown(whoCanAct),
    link,
    message,
    mailto: `mailto:?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(message)}`,
    request,
    askedByOther: request !== null && request.byUpn.toLowerCase() !== session.user.upn.toLowerCase(),
  };
}

/** Record that the signed-in admin asked a colleague to continue the stuck step (a decision event in the run's audit trail). */
export async function requestAdminHandoff(session: SessionWithUser, runId: string): Promise<ActionResult<{ at: string; by: string }>> {
  const view = await getRunView(session, runId);
  if (!view) return failure("This onboarding run doesn't exist or belongs to another tenant.", { code: "forbidden" });
  const stuck = stuckSteps(view.run.steps);
  const [step] = stuck;
  if (!step) return failure("No step of this run is waiting for another admin.", { code: "conflict" });
  const { requiredRole } = combined(stuck);
  const event = await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: HANDOFF_REQUESTED,
    target: runId,
    runId,
    outcome: "success",
    detail: { stepId: step.stepId, ...(stuck.length > 1 ? { stepIds: stuck.map((s) => s.stepId) } : {}), requiredRole },
  });
  return { ok: true, data: { at: event.at.toISOString(), by: session.user.upn } };
}
