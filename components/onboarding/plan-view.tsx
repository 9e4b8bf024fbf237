// The plan: every write the run will make, grouped by step, with why it is needed.
import type { StoredPlan } from "@/lib/onboarding/plan";
import { maskText } from "@/lib/presenter";
import { STEPS } from "@/lib/steps/registry";
import type { ChangeAction } from "@/lib/steps/types";

const ACTION_LABELS: Record<ChangeAction, { label: string; tone: string }> = {
  create: { label: "Create", tone: "bg-emerald-50 text-emerald-800" },
  update: { label: "Update", tone: "bg-amber-50 text-amber-900" },
  "no-change": { label: "No change", tone: "bg-slate-100 text-slate-600" },
  adopt: { label: "Adopt", tone: "bg-sky-50 text-sky-800" },
  grant: { label: "Grant", tone: "bg-violet-50 text-violet-800" },
  register: { label: "Register", tone: "bg-sky-50 text-sky-800" },
  remove: { label: "Remove", tone: "bg-rose-50 text-rose-800" },
};

// A line the plan already knows can't be done (a cluster at the diagnostic-settings limit): not counted as a change.
const BLOCKED = { label: "Blocked", tone: "bg-amber-100 text-amber-900" };

/** The plan; in presenter mode every id in its texts is masked (and no raw id is used as a React key, which the page would embed). */
export function PlanView({ plan, presenter = false }: { plan: StoredPlan; presenter?: boolean }) {
  const shown = presenter ? maskText : (text: string) => text;
  const writes = plan.steps.flatMap((s) => s.changes).filter((c) => c.action !== "no-change" && !c.attention).length;
  return (
    <div className="space-y-5">
      <p role="status" className="text-slate-700">
        {writes === 0
          ? "Everything is already in place: confirming makes no changes."
          : `${writes} changes in ${plan.steps.filter((s) => s.changes.some((c) => c.action !== "no-change" && !c.attention)).length} steps.`}
      </p>
      {STEPS.map((step, index) => {
        const planned = plan.steps.find((s) => s.stepId === step.id);
        const headingId = `plan-${step.id}`;
        return (
          <section key={step.id} aria-labelledby={headingId} className="rounded-lg border border-slate-200 bg-white shadow-sm">
            <header className="border-b border-slate-100 px-5 py-3">
              <h2 id={headingId} className="font-semibold text-slate-900">
                {index + 1}. {step.title}
              </h2>
              <p className="text-sm text-slate-600">{step.summary}</p>
            </header>
            <div className="px-5 py-3">
              {planned?.error ? (
                <p role="alert" className="text-sm text-red-800">
                  {shown(planned.error.message)}
                </p>
              ) : !planned || planned.changes.length === 0 ? (
                <p className="text-sm text-slate-600">Nothing to do.</p>
              ) : (
                <table className="w-full table-fixed text-left text-sm">
                  <caption className="sr-only">Changes of step {step.title}</caption>
                  <thead className="text-xs uppercase text-slate-500">
                    <tr>
                      <th scope="col" className="w-28 py-1 pr-3 font-medium">
                        Operation
                      </th>
                      <th scope="col" className="w-[38%] py-1 pr-3 font-medium">
                        Resource
                      </th>
                      <th scope="col" className="py-1 font-medium">
                        Why
                      </th>
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-slate-100">
                    {planned.changes.map((c, i) => (
                      <tr key={presenter ? i : c.key} className="align-top">
                        <td className="py-2 pr-3">
                          <span
                            className={`rounded px-2 py-0.5 text-xs font-medium ${(c.attention ? BLOCKED : ACTION_LABELS[c.action]).tone}`}
                          >
                            {(c.attention ? BLOCKED : ACTION_LABELS[c.action]).label}
                          </span>
                        </td>
                        <th scope="row" className="py-2 pr-3 font-normal">
                          <span className="block text-xs text-slate-500">{c.resourceType}</span>
                          <span className="break-words font-medium text-slate-900">{shown(c.resource)}</span>
                          {c.details?.length ? (
                            <ul className="mt-1 space-y-0.5 text-xs text-slate-600">
                              {c.details.map((d, j) => (
                                <li key={presenter ? j : d} className="break-words">
                                  {shown(d)}
                                </li>
                              ))}
                            </ul>
                          ) : null}
                        </th>
                        <td className="py-2 text-slate-700">{shown(c.why)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </section>
        );
      })}
    </div>
  );
}
