import type { Metadata } from "next";
import { forbidden, redirect } from "next/navigation";
import { confirmPlanAction, replanAction } from "@/app/onboarding/actions";
import { leaveClusterOutAction } from "@/app/onboarding/plan-actions";
import { PlanExportLinks } from "@/components/onboarding/plan-export-links";
import { PlanView } from "@/components/onboarding/plan-view";
import { RunActionButton } from "@/components/onboarding/run-action-button";
import { isPresenterMode, requireSession } from "@/lib/auth/session";
import { decideForRun, probeFor } from "@/lib/onboarding/authorize";
import { flaggedClusters } from "@/lib/onboarding/plan";
import { getRunView } from "@/lib/onboarding/run-control";
import { maskText } from "@/lib/presenter";
import { Notice } from "@/components/ui/notice";
import { runIdSchema } from "@/lib/onboarding/schemas";

export const metadata: Metadata = { title: "Review the plan" };

export default async function PlanPage({ params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  const session = await requireSession(`/onboarding/${runId}/plan`);
  if (!runIdSchema.safeParse(runId).success) forbidden();
  const view = await getRunView(session, runId);
  if (!view) forbidden();
  if (view.run.status !== "planned" && view.run.status !== "draft") redirect(`/onboarding/${runId}`);
  const presenter = await isPresenterMode();
  // Confirming starts the first step with this user's token: decided live, as the action decides it.
  const probe = probeFor(session);
  const [mayConfirm, mayReplan] = await Promise.all([decideForRun("run-step", probe, view), decideForRun("plan", probe, view)]);
  const flagged = view.plan ? flaggedClusters(view.plan, view.config) : [];
  const shown = presenter ? maskText : (text: string) => text;
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-brand-900">Review the plan</h1>
        <p className="text-slate-600">
          Read live from Azure at {view.plan ? new Date(view.plan.computedAt).toUTCString() : "—"}. These are all the changes the run will
          make, with your permissions. Nothing has been changed yet.
        </p>
      </div>
      {flagged.length ? (
        <section aria-labelledby="flagged-clusters" className="rounded-lg border-2 border-amber-300 bg-amber-50 p-5 text-amber-950">
          <h2 id="flagged-clusters" className="font-semibold">
            {flagged.length === 1 ? "1 cluster can't be onboarded" : `${flagged.length} clusters can't be onboarded`}
          </h2>
          <p className="mt-1 text-sm">
            You can still confirm: every other cluster is onboarded, and the run ends listing{" "}
            {flagged.length === 1 ? "this cluster" : "these clusters"} as needing attention. Or leave {flagged.length === 1 ? "it" : "them"}{" "}
            out of this run now.
          </p>
          <ul className="mt-3 space-y-3">
            {flagged.map((f) => (
              <li key={f.key} aria-label={`Cluster ${shown(f.name)}`} className="rounded-md bg-white p-3 text-sm shadow-sm">
                <p>
                  <span className="font-semibold">{shown(f.name)}</span>: {shown(f.reason)}
                </p>
                <p className="mt-1">What to do: {shown(f.action)}</p>
                {mayReplan.allowed ? (
                  <div className="mt-2">
                    <RunActionButton
                      action={leaveClusterOutAction}
                      runId={runId}
                      hidden={{ cluster: f.key }}
                      label={`Leave ${shown(f.name)} out`}
                      pendingLabel="Re-planning…"
                      variant="secondary"
                    />
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {view.plan ? <PlanView plan={view.plan} presenter={presenter} /> : <p>The plan is being prepared.</p>}
      {!mayConfirm.allowed ? (
        <Notice tone="info" title="You can review this plan">
          <p>{mayConfirm.message}</p>
        </Notice>
      ) : null}
      <div className="flex flex-wrap items-start gap-4">
        {mayConfirm.allowed && view.plan && view.planHash ? (
          <RunActionButton
            action={confirmPlanAction}
            runId={runId}
            hidden={{ planHash: view.planHash }}
            label="Confirm and start"
            pendingLabel="Starting…"
          />
        ) : null}
        {mayReplan.allowed ? (
          <RunActionButton action={replanAction} runId={runId} label="Re-read Azure" pendingLabel="Reading Azure…" variant="secondary" />
        ) : null}
      </div>
      {view.plan ? <PlanExportLinks runId={runId} /> : null}
    </div>
  );
}
