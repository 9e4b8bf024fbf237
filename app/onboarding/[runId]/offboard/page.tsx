import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { startOffboardingAction } from "@/app/onboarding/offboard-actions";
import { AutoRefresh } from "@/components/onboarding/auto-refresh";
import { OffboardingPlanTable, OffboardingResultTable } from "@/components/onboarding/offboarding-view";
import { RunActionButton } from "@/components/onboarding/run-action-button";
import { Notice } from "@/components/ui/notice";
import { isPresenterMode, requireSession } from "@/lib/auth/session";
import { getOffboardingView } from "@/lib/offboarding/control";
import { mayOffboardRun, runScope } from "@/lib/authz/decide";
import { probeFor } from "@/lib/onboarding/authorize";
import { runIdSchema } from "@/lib/onboarding/schemas";
import { maskText } from "@/lib/presenter";

export const metadata: Metadata = { title: "Remove what this run created" };

export default async function OffboardPage({ params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  const session = await requireSession(`/onboarding/${runId}/offboard`);
  if (!runIdSchema.safeParse(runId).success) forbidden();
  const view = await getOffboardingView(session, runId);
  if (!view) forbidden();
  const presenter = await isPresenterMode();
  const shown = presenter ? maskText : (t: string) => t;
  const { plan, record, running } = view;
  // The remove button only for a user who may remove everything the plan lists (decided live, as the action decides).
  const mayRemove = plan && plan.removeCount > 0 ? await mayOffboardRun(probeFor(session), runScope(view.config)) : null;
  const removesLogs = plan?.items.some((i) => i.action === "remove" && i.category === "storage-account") ?? false;

  return (
    <div className="space-y-6">
      <AutoRefresh active={running} />
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-brand-900">Remove what this run created</h1>
          <p className="text-slate-600">
            Only what this run&apos;s log shows it created is removed, newest first, each removal checked by reading Azure again. What
            existed before the run (adopted or only updated) stays. Nothing is removed until you confirm.
          </p>
        </div>
        <p role="status" className="rounded-full bg-slate-100 px-3 py-1 text-sm text-slate-800">
          {running
            ? "Removing…"
            : plan?.removeCount === 0
              ? "Nothing left to remove"
              : record?.status === "incomplete"
                ? "Removal incomplete"
                : record?.status === "clean"
                  ? "Removed"
                  : "Not started"}
        </p>
      </div>

      {running ? (
        <Notice tone="info" title="Removing">
          <p>{record?.progress ? shown(record.progress.label) : "Starting…"}</p>
          <p className="mt-1 text-slate-600">You can close this page: the removal continues on the server.</p>
        </Notice>
      ) : null}

      {!running && !plan && !view.planError ? (
        <Notice tone="info" title="Not yet">
          <p>The run is still {view.run.status}. Its resources can be removed once it has finished or stopped.</p>
        </Notice>
      ) : null}

      {!running && plan && plan.removeCount > 0 && view.otherActiveRuns.length > 0 ? (
        <Notice tone="error" title="Other runs in this tenant use the same objects">
          <p>
            The app registration, the custom role, the role assignments and each region&apos;s storage account have the same names in every
            run of this tenant, so a later run adopts what this one created. Removing them also cuts off:
          </p>
          <ul className="mt-2 list-disc pl-5">
            {view.otherActiveRuns.map((r) => (
              <li key={r.id}>
                <Link href={`/onboarding/${r.id}`} className="underline">
                  the run started {r.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC by {r.createdByUpn}
                </Link>{" "}
                ({r.status})
              </li>
            ))}
          </ul>
        </Notice>
      ) : null}

      {view.planError ? (
        <Notice tone="error" title="Could not read what is left">
          <p>{shown(view.planError)}</p>
        </Notice>
      ) : null}

      {!running && view.lastResult && view.lastResult.length > 0 ? (
        <OffboardingResultTable results={view.lastResult} presenter={presenter} />
      ) : null}

      {plan ? (
        plan.removeCount === 0 ? (
          <Notice tone="info" title="Nothing left to remove">
            <p>Everything this run created is gone. Resources it adopted or only updated were left as they are.</p>
          </Notice>
        ) : (
          <>
            {removesLogs ? (
              <Notice tone="error" title="Audit logs will be deleted">
                <p>
                  Removing the audit storage accounts this run created deletes the kube-audit logs stored in them. They can&apos;t be
                  recovered.
                </p>
              </Notice>
            ) : null}
            {mayRemove && !mayRemove.allowed ? (
              <Notice tone="info" title="You can review what would be removed">
                <p>{mayRemove.message}</p>
              </Notice>
            ) : (
              <RunActionButton
                action={startOffboardingAction}
                runId={runId}
                hidden={{ planHash: plan.hash }}
                label={`Remove ${plan.removeCount} ${plan.removeCount === 1 ? "resource" : "resources"}`}
                pendingLabel="Starting…"
              />
            )}
          </>
        )
      ) : null}

      {plan ? <OffboardingPlanTable items={plan.items} presenter={presenter} /> : null}

      <p>
        <Link href={`/onboarding/${runId}`} className="text-sm text-brand-700 underline underline-offset-2">
          Back to the run
        </Link>
      </p>
    </div>
  );
}
