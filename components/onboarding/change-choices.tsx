"use client";
// Beside a storage step an Azure Policy stopped: change what the policy named (tags, network restriction), then retry.
import { useActionState, useState } from "react";
import { changeChoicesAction } from "@/app/onboarding/choices-actions";
import { TagsField, type TagRow } from "./tags-field";

export function ChangeChoices({
  runId,
  tags,
  hints,
  restrictNetwork,
  restrictAvailable,
  egressIps,
}: {
  runId: string;
  /** The run's current tags. */
  tags: Record<string, string>;
  /** What the policy message asks for. */
  hints: { tags: { name: string; value?: string; requiredBy: string }[]; restrictNetwork: boolean };
  restrictNetwork: boolean;
  restrictAvailable: boolean;
  egressIps: string[];
}) {
  const [state, formAction, pending] = useActionState(changeChoicesAction, null);
  const [rows, setRows] = useState<TagRow[]>(() => {
    const current: TagRow[] = Object.entries(tags).map(([name, value]) => ({ name, value }));
    for (const h of hints.tags) {
      const row = current.find((r) => r.name.toLowerCase() === h.name.toLowerCase());
      if (row) row.requiredBy = [h.requiredBy];
      else current.push({ name: h.name, value: h.value ?? "", requiredBy: [h.requiredBy] });
    }
    return current;
  });
  const [restrict, setRestrict] = useState(restrictNetwork || (hints.restrictNetwork && restrictAvailable));
  const error = state && !state.ok ? state : null;
  return (
    <form
      action={formAction}
      className="space-y-4 rounded-lg border border-amber-200 bg-amber-50 p-5"
      aria-labelledby="change-choices-title"
    >
      <h2 id="change-choices-title" className="text-lg font-semibold text-slate-900">
        Change your choices and retry
      </h2>
      <p className="text-sm text-slate-700">
        An Azure Policy stopped the storage step. Change what it asks for; the step then runs again and re-checks what already exists.
      </p>
      <input type="hidden" name="runId" value={runId} />
      <fieldset>
        <legend className="mb-2 text-sm font-medium text-slate-800">Tags</legend>
        <TagsField rows={rows} onChange={setRows} error={error?.fieldErrors?.tags?.[0]} />
      </fieldset>
      <label className="flex items-start gap-2 text-sm">
        <input
          type="checkbox"
          name="restrictNetwork"
          className="mt-1"
          checked={restrict}
          disabled={!restrictAvailable}
          onChange={(e) => setRestrict(e.target.checked)}
        />
        <span>
          Restrict network access to the vendor&apos;s IP addresses
          <span className="block text-slate-500">
            {restrictAvailable
              ? `Allows ${egressIps.join(", ")} and trusted Azure services (Azure Monitor must still write).`
              : "Not available: the vendor's egress IPs are not configured in this portal."}
          </span>
        </span>
      </label>
      {/* A disabled checkbox posts nothing: keep the current choice. */}
      {!restrictAvailable && restrict ? <input type="hidden" name="restrictNetwork" value="on" /> : null}
      <button
        type="submit"
        disabled={pending}
        className="rounded-md bg-brand-600 px-5 py-2.5 font-medium text-white shadow-sm hover:bg-brand-700 disabled:opacity-50"
      >
        {pending ? "Saving and retrying…" : "Save and retry"}
      </button>
      {error ? (
        <p role="alert" className="text-sm text-red-800">
          {error.message}
        </p>
      ) : null}
    </form>
  );
}
