"use client";
// A one-button form for a run action (confirm, continue, re-plan) with its error shown in place.
import { useActionState } from "react";
import type { ActionResult } from "@/lib/action-result";

type RunAction = (prev: ActionResult<{ runId: string }> | null, form: FormData) => Promise<ActionResult<{ runId: string }>>;

export function RunActionButton({
  action,
  runId,
  label,
  pendingLabel,
  hidden = {},
  variant = "primary",
}: {
  action: RunAction;
  runId: string;
  label: string;
  pendingLabel: string;
  hidden?: Record<string, string>;
  variant?: "primary" | "secondary";
}) {
  const [state, formAction, pending] = useActionState(action, null);
  const style =
    variant === "primary"
      ? "bg-brand-600 text-white hover:bg-brand-700 shadow-sm"
      : "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100";
  return (
    <form action={formAction} className="inline-flex flex-col gap-2">
      <input type="hidden" name="runId" value={runId} />
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" disabled={pending} className={`rounded-md px-5 py-2.5 font-medium disabled:opacity-50 ${style}`}>
        {pending ? pendingLabel : label}
      </button>
      {state && !state.ok ? (
        <p role="alert" className="max-w-md text-sm text-red-800">
          {state.message}
        </p>
      ) : null}
    </form>
  );
}
