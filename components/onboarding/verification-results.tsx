// The Verification step's checks as a table (pass / fail / waiting / not tested, why, newest log per cluster) and a
// button to run verification again. Ids are masked in presenter mode by getVerificationView.
import { rerunVerificationAction } from "@/app/onboarding/verification-actions";
import type { SessionWithUser } from "@/lib/db/sessions";
import type { RunView } from "@/lib/onboarding/run-control";
import { getVerificationView } from "@/lib/onboarding/verification";
import type { CheckStatus } from "@/lib/steps/verification-results";
import { RunActionButton } from "./run-action-button";

const STATUS: Record<CheckStatus, { text: string; tone: string }> = {
  pass: { text: "Pass", tone: "bg-green-100 text-green-900" },
  fail: { text: "Fail", tone: "bg-red-100 text-red-900" },
  waiting: { text: "Waiting", tone: "bg-amber-100 text-amber-900" },
  skipped: { text: "Not tested", tone: "bg-slate-100 text-slate-800" },
};

const utc = (iso: string) => `${iso.slice(0, 19).replace("T", " ")} UTC`;

/** `mayRerun`: the user may manage the app's credentials (a re-run adds a one-hour secret); otherwise no button. */
export async function VerificationResults({
  session,
  runId,
  presenter = false,
  runView,
  mayRerun,
}: {
  session: SessionWithUser;
  runId: string;
  presenter?: boolean;
  runView?: RunView;
  mayRerun: boolean;
}) {
  const found = await getVerificationView(session, runId, { presenter, view: runView });
  const view = found ? { ...found, canRerun: found.canRerun && mayRerun } : null;
  if (!view || (view.checks.length === 0 && !view.canRerun)) return null;
  return (
    <section aria-labelledby="verification-results" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <div className="mb-3 flex flex-wrap items-start justify-between gap-3">
        <div>
          <h2 id="verification-results" className="font-semibold text-slate-900">
            Verification results
          </h2>
          <p className="text-sm text-slate-600">
            Checked by signing in as the vendor&apos;s app{view.ranAt ? `, last at ${utc(view.ranAt)}` : ""}. A re-run uses a secret that
            expires within an hour and is removed right after.
          </p>
        </div>
        {view.canRerun ? (
          <RunActionButton
            action={rerunVerificationAction}
            runId={runId}
            label="Run verification again"
            pendingLabel="Starting…"
            variant="secondary"
          />
        ) : null}
      </div>
      {view.checks.length ? (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Verification checks</caption>
            <thead className="text-slate-700">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Check
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Result
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Why
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Newest kube-audit log
                </th>
              </tr>
            </thead>
            <tbody>
              {view.checks.map((c) => (
                <tr key={c.id} className="border-t border-slate-100 align-top">
                  <th scope="row" className="py-2 pr-3 font-normal text-slate-900">
                    {c.label}
                  </th>
                  <td className="py-2 pr-3">
                    <span className={`whitespace-nowrap rounded-full px-2.5 py-0.5 text-xs font-medium ${STATUS[c.status].tone}`}>
                      {STATUS[c.status].text}
                    </span>
                  </td>
                  <td className="py-2 pr-3 text-slate-700">{c.reason}</td>
                  <td className="py-2 pr-3 whitespace-nowrap text-slate-700">
                    {c.newestBlobAt ? utc(c.newestBlobAt) : c.id.startsWith("logs:") ? "waiting for first logs" : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
