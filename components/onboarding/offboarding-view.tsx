// The removal plan (remove / keep / already gone, with why) and the last removal's result, ids masked in presenter mode.
import type { ItemResult } from "@/lib/offboarding/execute";
import type { OffboardingAction, OffboardingItem } from "@/lib/offboarding/plan";
import { maskText } from "@/lib/presenter";

const ACTIONS: Record<OffboardingAction, { label: string; tone: string }> = {
  remove: { label: "Remove", tone: "bg-red-50 text-red-800" },
  keep: { label: "Keep", tone: "bg-sky-50 text-sky-800" },
  gone: { label: "Already gone", tone: "bg-slate-100 text-slate-600" },
};

const OUTCOMES: Record<ItemResult["outcome"], { label: string; tone: string }> = {
  removed: { label: "Removed", tone: "bg-emerald-50 text-emerald-800" },
  gone: { label: "Already gone", tone: "bg-slate-100 text-slate-600" },
  kept: { label: "Kept", tone: "bg-sky-50 text-sky-800" },
  failed: { label: "Failed", tone: "bg-red-50 text-red-800" },
};

function Row({
  badge,
  type,
  resource,
  text,
  index,
  presenter,
}: {
  badge: { label: string; tone: string };
  type: string;
  resource: string;
  text: string;
  index: number;
  presenter: boolean;
}) {
  const shown = presenter ? maskText : (t: string) => t;
  return (
    <tr key={index} className="align-top">
      <td className="py-2 pr-3">
        <span className={`rounded px-2 py-0.5 text-xs font-medium ${badge.tone}`}>{badge.label}</span>
      </td>
      <th scope="row" className="py-2 pr-3 font-normal">
        <span className="block text-xs text-slate-500">{type}</span>
        <span className="break-words font-medium text-slate-900">{shown(resource)}</span>
      </th>
      <td className="py-2 text-slate-700">{shown(text)}</td>
    </tr>
  );
}

function Table({ caption, children }: { caption: string; children: React.ReactNode }) {
  return (
    <table className="w-full table-fixed text-left text-sm">
      <caption className="sr-only">{caption}</caption>
      <thead className="text-xs uppercase text-slate-500">
        <tr>
          <th scope="col" className="w-32 py-1 pr-3 font-medium">
            What happens
          </th>
          <th scope="col" className="w-[38%] py-1 pr-3 font-medium">
            Resource
          </th>
          <th scope="col" className="py-1 font-medium">
            Why
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">{children}</tbody>
    </table>
  );
}

/** The plan's lines, removals first, in the order they are removed. */
export function OffboardingPlanTable({ items, presenter }: { items: OffboardingItem[]; presenter: boolean }) {
  return (
    <section aria-labelledby="offboard-plan" className="rounded-lg border border-slate-200 bg-white px-5 py-3 shadow-sm">
      <h2 id="offboard-plan" className="mb-2 font-semibold text-slate-900">
        What this run created, and what happens to it
      </h2>
      {items.length === 0 ? (
        <p className="text-sm text-slate-600">This run made no changes in Azure.</p>
      ) : (
        <Table caption="Removal plan">
          {items.map((i, n) => (
            <Row
              key={n}
              index={n}
              badge={ACTIONS[i.action]}
              type={i.resourceType}
              resource={i.resource}
              text={i.why}
              presenter={presenter}
            />
          ))}
        </Table>
      )}
    </section>
  );
}

/** What the last removal did, item by item. */
export function OffboardingResultTable({ results, presenter }: { results: ItemResult[]; presenter: boolean }) {
  return (
    <section aria-labelledby="offboard-result" className="rounded-lg border border-slate-200 bg-white px-5 py-3 shadow-sm">
      <h2 id="offboard-result" className="mb-2 font-semibold text-slate-900">
        Last removal
      </h2>
      <Table caption="Result of the last removal">
        {results.map((r, n) => (
          <Row
            key={n}
            index={n}
            badge={OUTCOMES[r.outcome]}
            type={r.resourceType}
            resource={r.resource}
            text={r.message ?? ""}
            presenter={presenter}
          />
        ))}
      </Table>
    </section>
  );
}
