import type { Metadata } from "next";
import { forbidden, redirect } from "next/navigation";
import { continueRunAction } from "@/app/onboarding/actions";
import { AskAnotherAdmin } from "@/components/onboarding/ask-another-admin";
import { AuditTrail } from "@/components/onboarding/audit-trail";
import { AutoRefresh } from "@/components/onboarding/auto-refresh";
import { ChangeChoices } from "@/components/onboarding/change-choices";
import { CoverageCheck } from "@/components/onboarding/coverage-check";
import { CredentialStatus } from "@/components/onboarding/credential-status";
import { ManualHandoffPanel } from "@/components/onboarding/manual-handoff-panel";
import { OffboardLink } from "@/components/onboarding/offboard-link";
import { RunActionButton } from "@/components/onboarding/run-action-button";
import { StepList, displayStatus } from "@/components/onboarding/step-list";
import { VerificationResults } from "@/components/onboarding/verification-results";
import { Notice } from "@/components/ui/notice";
import { auditPageCursor } from "@/lib/audit/access";
import { isPresenterMode, requireSession } from "@/lib/auth/session";
import { env } from "@/lib/env";
import { choiceHints, policyStoppedStep } from "@/lib/onboarding/change-choices";
import { getManualHandoff } from "@/lib/onboarding/manual-handoff";
import { runControls } from "@/lib/onboarding/authorize";
import { getRunChange } from "@/lib/onboarding/run-control";
import { clustersNeedingAttention, completedRunText } from "@/lib/onboarding/step-summary";
import { runIdSchema } from "@/lib/onboarding/schemas";
import { pageRunView } from "./run-view";

export const metadata: Metadata = { title: "Onboarding run" };

export default async function RunPage({
  params,
  searchParams,
}: {
  params: Promise<{ runId: string }>;
  searchParams: Promise<{ auditBefore?: string | string[] }>;
}) {
  const { runId } = await params;
  const session = await requireSession(`/onboarding/${runId}`);
  if (!runIdSchema.safeParse(runId).success) forbidden();
  const view = await pageRunView(session, runId);
  if (!view) forbidden();
  const { run, config } = view;
  if (run.status === "draft" || run.status === "planned") redirect(`/onboarding/${runId}/plan`);

  const now = new Date();
  const statuses = run.steps.map((s) => displayStatus(s, now, run.steps));
  // Several steps can work at once, and a step can fail while an independent branch goes on.
  const working = statuses.includes("running");
  const failedSteps = run.steps.filter((s) => s.status === "failed" || s.status === "needs_admin");
  const presenter = await isPresenterMode();
  // Controls render only for a user who may use them, decided live as the actions decide (lib/authz).
  const [change, handoff, controls] = await Promise.all([
    getRunChange(session, runId),
    getManualHandoff(session, runId, { presenter, view }),
    runControls(session, view),
  ]);
  const canContinue =
    controls.continue?.allowed === true &&
    !working &&
    (run.status === "failed" || (run.status === "running" && statuses.some((s) => s !== "done" && s !== "attention")));
  const manage = controls.credential?.allowed === true;
  // Why this user sees no controls (the first refusal), so a viewer knows who can act.
  const refusal = [controls.continue, controls.credential, controls.offboard].find((d) => d && !d.allowed);
  const done = run.status === "completed";
  // Done with exceptions: the clusters a step could not onboard, each once.
  const needAttention = clustersNeedingAttention(run.steps.flatMap((s) => (s.status === "done" ? (s.attention ?? []) : [])));

  return (
    <div className="space-y-6">
      {/* While running, even with no step leased yet: a render between Confirm/Retry and the engine's first lease must still
          see the run move (the poll re-renders only when the stamp changes). */}
      {change ? <AutoRefresh active={run.status === "running"} watch={{ runId, stamp: change.stamp }} /> : null}
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-brand-900">Onboarding {config.clusters.length} AKS clusters</h1>
          <p className="text-slate-600">
            Started by {run.createdByUpn}
            {run.planConfirmedByUpn ? `, plan confirmed by ${run.planConfirmedByUpn}` : ""}. Anyone in this tenant can follow it from this
            page&apos;s link; an admin with the roles a step needs can continue it.
          </p>
        </div>
        <p role="status" className="rounded-full bg-slate-100 px-3 py-1 text-sm text-slate-800">
          {run.status === "offboarded"
            ? "Removed"
            : run.status === "offboarding"
              ? "Being removed"
              : done
                ? completedRunText(needAttention.length)
                : working
                  ? failedSteps.length
                    ? `Working… ${failedSteps.length === 1 ? "1 step needs" : `${failedSteps.length} steps need`} attention; the steps that don't depend on ${failedSteps.length === 1 ? "it" : "them"} go on`
                    : "Working…"
                  : run.status === "failed"
                    ? "Stopped: needs attention"
                    : "Waiting"}
        </p>
      </div>
      <StepList
        steps={run.steps}
        portalUrl={env().AZURE_PORTAL_URL}
        config={config}
        tenantId={run.tenantId}
        now={now}
        presenter={presenter}
        secretHints={manage}
      />
      {/* An Azure Policy stopped the storage step: change what it named, then retry (same decision as Retry). */}
      {canContinue && policyStoppedStep(run) ? (
        <ChangeChoices
          runId={runId}
          tags={config.options.tags ?? {}}
          hints={choiceHints(policyStoppedStep(run)?.error?.message ?? "")}
          restrictNetwork={config.options.restrictNetwork}
          restrictAvailable={config.vendor.egressIps.length > 0}
          egressIps={config.vendor.egressIps}
        />
      ) : null}
      <AskAnotherAdmin
        session={session}
        runId={runId}
        presenter={presenter}
        runView={view}
        mayContinue={controls.continue?.allowed === true}
      />
      {refusal && !refusal.allowed ? (
        <Notice tone="info" title="Some actions need another admin">
          <p>{refusal.message}</p>
        </Notice>
      ) : null}
      {done ? (
        <CredentialStatus
          session={session}
          runId={runId}
          vendorName={config.vendor.name}
          presenter={presenter}
          runView={view}
          manage={manage}
        />
      ) : null}
      <VerificationResults session={session} runId={runId} presenter={presenter} runView={view} mayRerun={manage} />
      {handoff && manage ? <ManualHandoffPanel runId={runId} vendorName={config.vendor.name} handoff={handoff} /> : null}
      {canContinue && failedSteps.length > 1 ? (
        <p className="text-sm text-slate-700">
          Retry runs the {failedSteps.length} steps that need attention again, side by side, then the steps waiting for them.
        </p>
      ) : null}
      {canContinue ? (
        <RunActionButton
          action={continueRunAction}
          runId={runId}
          // Nothing failed and nothing working (a server stopped between two steps): continuing is a resume, not a retry.
          label={
            statuses.includes("interrupted") || (run.status === "running" && !working && failedSteps.length === 0) ? "Resume" : "Retry"
          }
          pendingLabel="Starting…"
        />
      ) : null}
      {done ? (
        <CoverageCheck runId={runId} extendRefusal={controls.extend && !controls.extend.allowed ? controls.extend.message : null} />
      ) : null}
      <OffboardLink runId={runId} status={run.status} allowed={controls.offboard?.allowed === true} />
      <AuditTrail
        session={session}
        runId={runId}
        presenter={presenter}
        runView={view}
        before={auditPageCursor((await searchParams).auditBefore)}
      />
    </div>
  );
}
