// The run's audit trail, newest first, a page at a time, with its downloads. Shows who did what to which resource;
// never detail payloads.
import Link from "next/link";
import { AUDIT_PAGE_SIZE, runAuditTrail } from "@/lib/audit/access";
import type { AuditEvent } from "@/lib/db/audit";
import type { SessionWithUser } from "@/lib/db/sessions";
import type { RunView } from "@/lib/onboarding/run-control";
import { maskText } from "@/lib/presenter";

const OUTCOME_TEXT: Record<AuditEvent["outcome"], string> = { success: "Succeeded", failure: "Failed", denied: "Denied" };

function what(event: AuditEvent): string {
  const detail = event.detail;
  const kind =
    detail !== null && typeof detail === "object" && !Array.isArray(detail) && typeof detail.kind === "string" ? detail.kind : null;
  return kind ? `${event.action} (${kind})` : event.action;
}

/** One page of the run's events (newest first, or those before the `before` cursor) with links to older and newest. */
export async function AuditTrail({
  session,
  runId,
  presenter = false,
  runView,
  before = null,
}: {
  session: SessionWithUser;
  runId: string;
  presenter?: boolean;
  runView?: RunView;
  before?: string | null;
}) {
  const page = await runAuditTrail(session, runId, { view: runView, before });
  if (!page) return null;
  const { events, older } = page;
  const shown = presenter ? maskText : (text: string) => text;
  return (
    <section aria-labelledby="audit-trail" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="audit-trail" className="font-semibold text-slate-900">
          Audit trail
        </h2>
        <p className="flex gap-4 text-sm">
          <a href={`/onboarding/${runId}/audit?format=jsonl`} download className="text-brand-700 underline">
            Download JSON Lines
          </a>
          <a href={`/onboarding/${runId}/audit?format=csv`} download className="text-brand-700 underline">
            Download CSV
          </a>
        </p>
      </div>
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <caption className="mb-2 text-left text-slate-600">
            Every Azure and Graph write and every decision on this run, newest first, {AUDIT_PAGE_SIZE} at a time (the downloads have all).
            Events are hash-chained: check a download with <code>npm run audit:verify -- file.jsonl</code>.
          </caption>
          <thead className="text-slate-700">
            <tr>
              <th scope="col" className="py-1 pr-3 font-medium">
                Time (UTC)
              </th>
              <th scope="col" className="py-1 pr-3 font-medium">
                Who
              </th>
              <th scope="col" className="py-1 pr-3 font-medium">
                What
              </th>
              <th scope="col" className="py-1 pr-3 font-medium">
                Target
              </th>
              <th scope="col" className="py-1 font-medium">
                Outcome
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {events.length === 0 ? (
              <tr>
                <td colSpan={5} className="py-2 text-slate-600">
                  {before ? "No older events." : "No events yet."}
                </td>
              </tr>
            ) : (
              events.map((event) => (
                <tr key={event.id}>
                  <td className="whitespace-nowrap py-1 pr-3 tabular-nums">{event.at.toISOString().slice(0, 19).replace("T", " ")}</td>
                  <td className="py-1 pr-3">{event.actorUpn}</td>
                  <td className="py-1 pr-3">{what(event)}</td>
                  <td className="break-all py-1 pr-3 font-mono text-xs">{event.target ? shown(event.target) : "—"}</td>
                  <td className="py-1">{OUTCOME_TEXT[event.outcome]}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      {before || older ? (
        <nav aria-label="Audit trail pages" className="mt-3 flex gap-4 text-sm">
          {before ? (
            <Link href={`/onboarding/${runId}#audit-trail`} className="text-brand-700 underline">
              Newest events
            </Link>
          ) : null}
          {older ? (
            <Link href={`/onboarding/${runId}?auditBefore=${older}#audit-trail`} className="text-brand-700 underline">
              Older events
            </Link>
          ) : null}
        </nav>
      ) : null}
    </section>
  );
}
