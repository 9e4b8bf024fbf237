import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { runStatusText, StepStatusList, utc } from "@/components/vendor/step-status";
import { isPresenterMode, requireSession } from "@/lib/auth/session";
import { listVendorRuns } from "@/lib/vendor-view/runs";

export const metadata: Metadata = { title: "Customer onboardings" };
export const dynamic = "force-dynamic";

// Vendor staff only: every customer's onboarding runs, read-only.
export default async function VendorPage() {
  const session = await requireSession("/vendor");
  const runs = await listVendorRuns(session, { presenter: await isPresenterMode() });
  if (!runs) forbidden();

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-brand-900">Customer onboardings</h1>
        <p className="text-slate-600">
          Read-only: every customer tenant&apos;s runs, newest activity first. Only customers&apos; admins can change a run; opening one is
          recorded in that customer&apos;s audit trail.
        </p>
      </div>
      {runs.length === 0 ? (
        <p className="rounded-lg border border-slate-200 bg-white p-5 text-slate-700 shadow-sm">
          No customer has started an onboarding yet.
        </p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Onboarding runs of all customer tenants</caption>
            <thead className="bg-slate-50 text-slate-700">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">
                  Customer
                </th>
                <th scope="col" className="px-4 py-2 font-medium">
                  Status
                </th>
                <th scope="col" className="px-4 py-2 font-medium">
                  Steps
                </th>
                <th scope="col" className="px-4 py-2 font-medium">
                  Last error
                </th>
                <th scope="col" className="px-4 py-2 font-medium">
                  Last activity
                </th>
                <th scope="col" className="px-4 py-2 font-medium">
                  Who
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 align-top">
              {runs.map((run) => {
                const failing = run.steps.find((s) => s.error);
                return (
                  <tr key={run.runId}>
                    <th scope="row" className="px-4 py-3 font-medium">
                      <Link href={`/vendor/runs/${run.runId}`} className="text-brand-700 underline">
                        {run.tenantLabel}
                      </Link>
                      <span className="block text-xs font-normal text-slate-500">
                        {run.clusterCount} {run.clusterCount === 1 ? "cluster" : "clusters"}
                      </span>
                    </th>
                    <td className="px-4 py-3">{runStatusText(run)}</td>
                    <td className="px-4 py-3">
                      <StepStatusList steps={run.steps} label={`Steps of ${run.tenantLabel}'s run`} />
                    </td>
                    <td className="max-w-xs px-4 py-3 text-slate-700">
                      {failing?.error ? (
                        <>
                          <code className="rounded bg-slate-100 px-1 text-xs">{failing.error.code}</code> {failing.error.message}
                        </>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td className="whitespace-nowrap px-4 py-3 tabular-nums">{utc(run.lastActivityAt)}</td>
                    <td className="px-4 py-3">
                      {run.actor.upn}
                      <span className="block text-xs text-slate-500">{run.actor.now ? "acting now" : "last acted"}</span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
