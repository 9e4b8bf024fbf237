"use client";
// Tags for everything the portal creates: editable rows, those a policy requires marked with the assignment's name.

/** One tag row; `requiredBy` names the policy assignments that require it. */
export interface TagRow {
  name: string;
  value: string;
  requiredBy?: string[];
}

/** The rows as Azure tags (rows without a name are left out). */
export function tagsOf(rows: readonly TagRow[]): Record<string, string> {
  return Object.fromEntries(rows.filter((r) => r.name.trim() !== "").map((r) => [r.name.trim(), r.value.trim()]));
}

/** Rows with `name="tagName"` / `name="tagValue"` inputs, so a plain form post carries them too. */
export function TagsField({
  rows,
  onChange,
  error,
  notes = [],
}: {
  rows: TagRow[];
  onChange: (rows: TagRow[]) => void;
  error?: string;
  notes?: string[];
}) {
  const update = (index: number, patch: Partial<TagRow>) => onChange(rows.map((r, i) => (i === index ? { ...r, ...patch } : r)));
  return (
    <div className="space-y-3">
      <p className="text-sm text-slate-600">
        Set on the resource group and storage accounts the portal creates; your existing resources keep their own tags.
      </p>
      {rows.length === 0 ? <p className="text-sm text-slate-500">No tags.</p> : null}
      <ul className="space-y-2">
        {rows.map((row, index) => (
          <li key={index} className="flex flex-wrap items-center gap-2">
            <input
              name="tagName"
              aria-label={`Tag ${index + 1} name`}
              placeholder="Name"
              className="w-48 rounded border border-slate-300 px-2 py-1.5 text-sm"
              value={row.name}
              onChange={(e) => update(index, { name: e.target.value })}
            />
            <input
              name="tagValue"
              aria-label={`Tag ${index + 1} value`}
              placeholder="Value"
              className="w-56 rounded border border-slate-300 px-2 py-1.5 text-sm"
              value={row.value}
              onChange={(e) => update(index, { value: e.target.value })}
            />
            {row.requiredBy?.length ? (
              <span className="text-xs text-amber-800">required by policy {row.requiredBy.map((a) => `'${a}'`).join(", ")}</span>
            ) : (
              <button
                type="button"
                className="text-sm text-slate-600 underline"
                aria-label={`Remove tag ${index + 1}`}
                onClick={() => onChange(rows.filter((_, i) => i !== index))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      <button
        type="button"
        className="rounded border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-100"
        onClick={() => onChange([...rows, { name: "", value: "" }])}
      >
        Add a tag
      </button>
      {error ? <p className="text-sm text-red-700">Tags: {error}</p> : null}
      {notes.map((n) => (
        <p key={n} className="text-sm text-slate-500">
          {n}
        </p>
      ))}
    </div>
  );
}
