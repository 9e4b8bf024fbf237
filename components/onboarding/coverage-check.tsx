"use client";
// "Re-check coverage" on a completed run: which clusters don't send kube-audit to the run's accounts, and extending to them.
import { useActionState, useId } from "react";
import { extendCoverageAction, recheckCoverageAction } from "@/app/onboarding/drift-actions";
import { RegionLabel } from "@/components/ui/region-label";
import type { ActionResult } from "@/lib/action-result";
import type { CoverageReportView } from "@/lib/onboarding/drift";

const BUTTON = "rounded-md px-4 py-2 font-medium disabled:opacity-50";
const PRIMARY = `${BUTTON} bg-brand-600 text-white shadow-sm hover:bg-brand-700`;
const SECONDARY = `${BUTTON} border border-slate-300 bg-white text-slate-800 hover:bg-slate-100`;

function utc(at: string): string {
  return `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The Extend button (or why the user may not extend) and the extension's refusal. */
function ExtendControls({
  refusal,
  extending,
  state,
}: {
  refusal: string | null;
  extending: boolean;
  state: ActionResult<{ runId: string }> | null;
}) {
  return (
    <>
      {refusal ? (
        <p role="note" className="text-sm text-slate-700">
          {refusal}
        </p>
      ) : (
        <button type="submit" disabled={extending} className={PRIMARY}>
          {extending ? "Planning…" : "Extend the run"}
        </button>
      )}
      {state && !state.ok ? (
        <p role="alert" className="text-sm text-red-800">
          {state.message}
        </p>
      ) : null}
    </>
  );
}

function Report({ runId, report, extendRefusal }: { runId: string; report: CoverageReportView; extendRefusal: string | null }) {
  const [extendState, extendAction, extending] = useActionState<ActionResult<{ runId: string }> | null, FormData>(
    extendCoverageAction,
    null,
  );
  const tableId = useId();
  const removed =
    report.removedClusters.length > 0 ? (
      <p className="text-sm text-slate-600">
        No longer in Azure, dropped from the run if you extend it: {report.removedClusters.map((c) => c.clusterName).join(", ")}.
      </p>
    ) : null;

  const narrowing =
    report.narrowing.length > 0 ? (
      <p className="text-sm text-slate-700">
        The vendor still holds access from an earlier version of this portal that reaches more than it needs:{" "}
        {report.narrowing.map((n) => `${n.roleName} on all of ${n.subscriptionName}`).join("; ")}. Extending narrows it to the selected
        clusters and the audit storage accounts (the plan shows each removal).
      </p>
    ) : null;

  if (report.gaps.length === 0 && narrowing) {
    return (
      <form action={extendAction} className="space-y-2">
        <input type="hidden" name="runId" value={runId} />
        <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          All {report.clustersChecked} clusters send kube-audit to this run&apos;s storage accounts (checked {utc(report.checkedAt)}), and
          the vendor&apos;s access can be narrowed.
        </p>
        {narrowing}
        {removed}
        <ExtendControls refusal={extendRefusal} extending={extending} state={extendState} />
      </form>
    );
  }
  if (report.gaps.length === 0) {
    return (
      <div className="space-y-2">
        <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          All {report.clustersChecked} clusters in this run&apos;s subscriptions send kube-audit to this run&apos;s storage accounts
          (checked {utc(report.checkedAt)}).
        </p>
        {removed}
      </div>
    );
  }
  const newOnes = report.gaps.filter((g) => !g.inRun);
  return (
    <form action={extendAction} className="space-y-4">
      <input type="hidden" name="runId" value={runId} />
      <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
        {report.gaps.length} of {report.clustersChecked} clusters don&apos;t send kube-audit to this run&apos;s storage accounts (checked{" "}
        {utc(report.checkedAt)}).
      </p>
      <table aria-labelledby={tableId} className="w-full text-left text-sm">
        <caption id={tableId} className="sr-only">
          Clusters not covered by this run
        </caption>
        <thead className="text-slate-600">
          <tr>
            <th scope="col" className="py-1 pr-3 font-medium">
              Include
            </th>
            <th scope="col" className="py-1 pr-3 font-medium">
              Cluster
            </th>
            <th scope="col" className="py-1 pr-3 font-medium">
              Region
            </th>
            <th scope="col" className="py-1 font-medium">
              Why
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {report.gaps.map((g) => (
            <tr key={g.key} className="align-top">
              <td className="py-2 pr-3">
                {g.inRun ? (
                  <span className="text-slate-600">{g.reason === "settings-limit" ? "After a slot is free" : "Repaired"}</span>
                ) : (
                  // A cluster still at the settings limit would only be flagged again: not selected until the admin frees a slot.
                  <input
                    type="checkbox"
                    name="cluster"
                    value={g.key}
                    defaultChecked={g.reason !== "settings-limit"}
                    aria-label={`Add ${g.clusterName}`}
                    className="h-4 w-4"
                  />
                )}
              </td>
              <td className="py-2 pr-3">
                <span className="font-medium text-slate-900">{g.clusterName}</span>
                <span className="block text-slate-600">
                  {g.subscriptionName} · {g.resourceGroup}
                </span>
              </td>
              <td className="py-2 pr-3">
                <RegionLabel location={g.location} />
              </td>
              <td className="py-2 text-slate-800">{g.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {report.proposedAccounts.length > 0 ? (
        <div className="text-sm text-slate-700">
          <p className="font-medium text-slate-900">
            New audit storage {report.proposedAccounts.length > 1 ? "accounts" : "account"} for new regions
          </p>
          <ul className="mt-1 list-disc pl-5">
            {report.proposedAccounts.map((a) => (
              <li key={a.region}>
                <code className="rounded bg-slate-100 px-1">{a.accountName}</code> in <RegionLabel location={a.region} /> (
                {a.subscriptionName}, {a.resourceGroup}):{" "}
                {a.status === "available" ? "name available, created by the run" : "exists already, adopted"}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {report.accountProblems.map((p) => (
        <p key={p.region} role="alert" className="text-sm text-red-800">
          {p.message}
        </p>
      ))}
      {removed}
      {narrowing}
      <p className="text-sm text-slate-600">
        Extending reopens this run with {newOnes.length > 0 ? "the selected clusters" : "its own clusters"}: you review the plan (only the
        new and repaired parts change; the vendor keeps its client secret) and confirm it as before.
      </p>
      <ExtendControls refusal={extendRefusal} extending={extending} state={extendState} />
    </form>
  );
}

/** The coverage section of a completed run's page; `extendRefusal` (why the user may not extend) hides the Extend button. */
export function CoverageCheck({ runId, extendRefusal = null }: { runId: string; extendRefusal?: string | null }) {
  const [state, checkAction, checking] = useActionState<ActionResult<CoverageReportView> | null, FormData>(recheckCoverageAction, null);
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className="space-y-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h2 id={headingId} className="text-lg font-semibold text-slate-900">
            Coverage
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            New clusters, or settings someone deleted or changed since this run: re-read Azure to find clusters whose kube-audit log
            doesn&apos;t reach this run&apos;s storage accounts. Nothing is changed by checking.
          </p>
        </div>
        <form action={checkAction}>
          <input type="hidden" name="runId" value={runId} />
          <button type="submit" disabled={checking} className={SECONDARY}>
            {checking ? "Checking Azure…" : "Re-check coverage"}
          </button>
        </form>
      </div>
      {state && !state.ok ? (
        <p role="alert" className="text-sm text-red-800">
          {state.message}
        </p>
      ) : null}
      {state?.ok ? <Report key={state.data.checkedAt} runId={runId} report={state.data} extendRefusal={extendRefusal} /> : null}
    </section>
  );
}
