import type { Metadata } from "next";
import Link from "next/link";
import { forbidden, notFound } from "next/navigation";
import { runStatusText, stepStatusLabel, utc } from "@/components/vendor/step-status";
import { AUDIT_PAGE_SIZE, auditPageCursor } from "@/lib/audit/access";
import { isPresenterMode, requireSession } from "@/lib/auth/session";
import { isVendorStaff } from "@/lib/vendor-view/access";
import { openVendorRun } from "@/lib/vendor-view/runs";

export const metadata: Metadata = { title: "Customer onboarding (read-only)" };
export const dynamic = "force-dynamic";

// Vendor staff only: one customer run, read-only, its audit events a page at a time (?auditBefore=); opening it is
// recorded in the customer's audit trail.
export default async function VendorRunPage({
  params,
  searchParams,
}: {
  params: Promise<{ runId: string }>;
  searchParams: Promise<{ auditBefore?: string | string[] }>;
}) {
  const { runId } = await params;
  const session = await requireSession(`/vendor/runs/${runId}`);
  if (!isVendorStaff(session)) forbidden();
  const before = auditPageCursor((await searchParams).auditBefore);
  const run = await openVendorRun(session, runId, { presenter: await isPresenterMode(), auditBefore: before });
  if (!run) notFound();

  return (
    <div className="space-y-6">
      <p className="text-sm">
        <Link href="/vendor" className="text-brand-700 underline">
          All customer onboardings
        </Link>
      </p>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-brand-900">
            {run.tenantLabel}: onboarding of {run.clusters.length} AKS clusters
          </h1>
          <p className="text-slate-600">
            Tenant {run.tenantId}. Started {utc(run.createdAt)} by {run.createdByUpn}
            {run.planConfirmedByUpn ? `, plan confirmed by ${run.planConfirmedByUpn}` : ""}. Read-only: only the customer&apos;s admins can
            continue it.
          </p>
        </div>
        <p role="status" className="rounded-full bg-slate-100 px-3 py-1 text-sm text-slate-800">
          {runStatusText(run)}
        </p>
      </div>

      <dl className="grid gap-4 rounded-lg border border-slate-200 bg-white p-5 text-sm shadow-sm sm:grid-cols-3">
        <div>
          <dt className="text-slate-500">Last activity</dt>
          <dd className="tabular-nums">{utc(run.lastActivityAt)}</dd>
        </div>
        <div>
          <dt className="text-slate-500">{run.actor.now ? "Acting now" : "Last acted"}</dt>
          <dd>{run.actor.upn}</dd>
        </div>
        <div>
          <dt className="text-slate-500">Clusters and audit storage</dt>
          <dd>
            {run.clusters.map((c) => `${c.name} (${c.location})`).join(", ")}; {run.storageAccounts.join(", ")}
          </dd>
        </div>
      </dl>

      <section aria-labelledby="steps">
        <h2 id="steps" className="mb-3 font-semibold text-slate-900">
          Steps
        </h2>
        <ol className="space-y-3">
          {run.steps.map((step, index) => (
            <li
              key={step.stepId}
              aria-labelledby={`step-${step.stepId}`}
              className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
            >
              <div className="flex flex-wrap items-center justify-between gap-3">
                <h3 id={`step-${step.stepId}`} className="font-semibold text-slate-900">
                  <span aria-hidden className="mr-2 inline-grid h-6 w-6 place-items-center rounded-full bg-slate-100 text-xs">
                    {index + 1}
                  </span>
                  {step.title}
                </h3>
                <span className="text-sm">
                  {stepStatusLabel(step.status)}
                  {step.attempts > 1 ? ` (${step.attempts} attempts)` : ""}
                </span>
              </div>
              {step.progress ? <p className="mt-2 text-sm text-slate-700">{step.progress}</p> : null}
              {step.waitsFor.length ? (
                <p className="mt-2 text-sm text-slate-700">Waits for {step.waitsFor.join(" and ")}, which the customer retries.</p>
              ) : null}
              {step.attention.length ? (
                <ul
                  aria-label={`What ${step.title} could not do`}
                  className="mt-2 space-y-2 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-950"
                >
                  {step.attention.map((a, i) => (
                    <li key={i}>
                      <p>
                        <span className="font-semibold">{a.subject}</span>: {a.reason}
                      </p>
                      <p>What the customer does: {a.action}</p>
                    </li>
                  ))}
                </ul>
              ) : null}
              {step.error ? (
                <p className="mt-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-900">
                  <code className="mr-1 rounded bg-white px-1 text-xs">{step.error.code}</code>
                  {step.error.message}
                </p>
              ) : null}
            </li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="operations" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <h2 id="operations" className="mb-3 font-semibold text-slate-900">
          Azure and Graph writes
        </h2>
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="mb-2 text-left text-slate-600">The run&apos;s write-ahead log, oldest first: intent, then outcome.</caption>
            <thead className="text-slate-700">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Time
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Step
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Write
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Target
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Outcome
                </th>
                <th scope="col" className="py-1 font-medium">
                  By
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 align-top">
              {run.operations.length === 0 ? (
                <tr>
                  <td colSpan={6} className="py-2 text-slate-600">
                    No writes yet.
                  </td>
                </tr>
              ) : (
                run.operations.map((op) => (
                  <tr key={op.id}>
                    <td className="whitespace-nowrap py-1 pr-3 tabular-nums">{utc(op.at)}</td>
                    <td className="py-1 pr-3">{op.step}</td>
                    <td className="py-1 pr-3">{op.kind}</td>
                    <td className="break-all py-1 pr-3 font-mono text-xs">{op.target}</td>
                    <td className="py-1 pr-3">
                      {op.status}
                      {op.error ? (
                        <span className="block text-xs text-red-900">
                          <code>{op.error.code}</code> {op.error.message}
                        </span>
                      ) : null}
                      {op.requestId ? <span className="block text-xs text-slate-500">request {op.requestId}</span> : null}
                    </td>
                    <td className="py-1">{op.actorUpn}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="decisions" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <h2 id="decisions" className="mb-3 font-semibold text-slate-900">
          Audit events
        </h2>
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="mb-2 text-left text-slate-600">
              Who did what on this run, newest first, {AUDIT_PAGE_SIZE} at a time (details stay in the customer&apos;s export).
            </caption>
            <thead className="text-slate-700">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Time
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Who
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  What
                </th>
                <th scope="col" className="py-1 font-medium">
                  Outcome
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {run.auditEvents.length === 0 ? (
                <tr>
                  <td colSpan={4} className="py-2 text-slate-600">
                    {before ? "No older events." : "No events yet."}
                  </td>
                </tr>
              ) : (
                run.auditEvents.map((event) => (
                  <tr key={event.id}>
                    <td className="whitespace-nowrap py-1 pr-3 tabular-nums">{utc(event.at)}</td>
                    <td className="py-1 pr-3">{event.actorUpn}</td>
                    <td className="py-1 pr-3">{event.action}</td>
                    <td className="py-1">{event.outcome}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
        {before || run.olderAuditEvents ? (
          <nav aria-label="Audit event pages" className="mt-3 flex gap-4 text-sm">
            {before ? (
              <Link href={`/vendor/runs/${runId}#decisions`} className="text-brand-700 underline">
                Newest events
              </Link>
            ) : null}
            {run.olderAuditEvents ? (
              <Link href={`/vendor/runs/${runId}?auditBefore=${run.olderAuditEvents}#decisions`} className="text-brand-700 underline">
                Older events
              </Link>
            ) : null}
          </nav>
        ) : null}
      </section>
    </div>
  );
}
