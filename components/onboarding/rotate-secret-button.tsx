"use client";
// "Rotate secret" with an explicit confirmation step; the action's refusal (another rotation running…) shows in place.
import { useActionState, useId, useState } from "react";
import { rotateSecretAction } from "@/app/onboarding/rotation-actions";
import type { ActionResult } from "@/lib/action-result";

const PRIMARY = "rounded-md bg-brand-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-brand-700 disabled:opacity-50";
const SECONDARY = "rounded-md border border-slate-300 bg-white px-4 py-2 font-medium text-slate-800 hover:bg-slate-100";

/** The button, then a confirm/cancel pair explaining what rotating does. `label` says start or continue. */
export function RotateSecretButton({ runId, label, explanation }: { runId: string; label: string; explanation: string }) {
  const [state, formAction, pending] = useActionState<ActionResult<{ runId: string }> | null, FormData>(rotateSecretAction, null);
  // The confirmation belongs to the action state it was opened on: once the action answers, it closes by itself.
  const [openedOn, setOpenedOn] = useState<{ state: typeof state } | null>(null);
  const confirming = openedOn !== null && openedOn.state === state;
  const descriptionId = useId();
  if (!confirming) {
    return (
      <div className="flex flex-col gap-2">
        <button type="button" className={PRIMARY} onClick={() => setOpenedOn({ state })}>
          {label}
        </button>
        {state && !state.ok ? (
          <p role="alert" className="max-w-md text-sm text-red-800">
            {state.message}
          </p>
        ) : null}
      </div>
    );
  }
  return (
    <form action={formAction} className="flex flex-col gap-2" aria-describedby={descriptionId}>
      <input type="hidden" name="runId" value={runId} />
      <p id={descriptionId} className="max-w-xl text-sm text-slate-700">
        {explanation}
      </p>
      <div className="flex gap-2">
        <button type="submit" disabled={pending} className={PRIMARY}>
          {pending ? "Starting…" : "Confirm rotation"}
        </button>
        <button type="button" className={SECONDARY} onClick={() => setOpenedOn(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
