// "Ask another admin" on the run page: the step that needs a role the admin lacks, who can act, and the request.
import { continueRunAction } from "@/app/onboarding/actions";
import type { SessionWithUser } from "@/lib/db/sessions";
import { getAdminHandoff, quotedTitles } from "@/lib/onboarding/admin-handoff";
import type { RunView } from "@/lib/onboarding/run-control";
import { AskAnotherAdminRequest } from "./ask-another-admin-request";
import { RunActionButton } from "./run-action-button";

function utc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * Nothing unless a step of the run needs another admin; then the request panel, or for the asked colleague a banner with
 * Continue (`mayContinue`: decided live; a colleague without the role is told so instead of getting a button).
 */
export async function AskAnotherAdmin({
  session,
  runId,
  presenter,
  runView,
  mayContinue,
}: {
  session: SessionWithUser;
  runId: string;
  presenter: boolean;
  runView?: RunView;
  mayContinue: boolean;
}) {
  const view = await getAdminHandoff(session, runId, { presenter, view: runView });
  if (!view) return null;
  return (
    <section aria-labelledby="ask-another-admin" className="rounded-lg border border-amber-300 bg-amber-50 p-5 shadow-sm">
      <h2 id="ask-another-admin" className="font-semibold text-amber-950">
        {view.askedByOther && view.request
          ? `${view.request.byUpn} asked you to continue: needs ${view.requiredRole}`
          : `${quotedTitles(view.stepTitles)} ${view.stepTitles.length > 1 ? "need" : "needs"} another admin`}
      </h2>
      <p className="mt-1 text-sm text-amber-950">
        Needed: {view.requiredRole}. Who can act: {view.whoCanAct}.
      </p>
      {view.request ? (
        <p role="status" className="mt-2 text-sm font-medium text-amber-950">
          Needs another admin — asked {utc(view.request.at)} by {view.request.byUpn}
        </p>
      ) : null}
      {view.askedByOther ? (
        <div className="mt-4">
          {mayContinue ? (
            <>
              <p className="mb-2 text-sm text-slate-700">You hold that role: continue, and the step runs again with your permissions.</p>
              <RunActionButton action={continueRunAction} runId={runId} label="Continue" pendingLabel="Continuing…" />
            </>
          ) : (
            <p className="text-sm text-slate-700">
              You don&apos;t hold that role either, so you can&apos;t continue this step. Pass the request on to {view.whoCanAct}.
            </p>
          )}
        </div>
      ) : (
        <AskAnotherAdminRequest runId={runId} link={view.link} message={view.message} mailto={view.mailto} asked={view.request !== null} />
      )}
    </section>
  );
}
