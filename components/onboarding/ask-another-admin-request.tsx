"use client";
// The request itself: one click records it (audited); then the run's link, a prepared message and an email draft to send.
import { useActionState, useId, useState } from "react";
import { askAnotherAdminAction } from "@/app/onboarding/admin-handoff-actions";
import type { ActionResult } from "@/lib/action-result";

const SECONDARY = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100";

function CopyButton({ text, what }: { text: string; what: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
  }
  return (
    <span className="inline-flex items-center gap-2">
      <button type="button" className={SECONDARY} onClick={() => void copy()}>
        Copy {what}
      </button>
      <span role="status" className="text-sm text-emerald-800">
        {state === "copied" ? "Copied" : ""}
      </span>
      {state === "failed" ? (
        <span role="alert" className="text-sm text-red-800">
          Couldn&apos;t copy: select the text and copy it yourself.
        </span>
      ) : null}
    </span>
  );
}

/** Before the request: the button. After it: link, message and mailto, ready to send. */
export function AskAnotherAdminRequest({
  runId,
  link,
  message,
  mailto,
  asked,
}: {
  runId: string;
  link: string;
  message: string;
  mailto: string;
  asked: boolean;
}) {
  const [state, action, pending] = useActionState<ActionResult<{ at: string; by: string }> | null, FormData>(askAnotherAdminAction, null);
  const ids = { link: useId(), message: useId() };
  if (!asked && !state?.ok) {
    return (
      <form action={action} className="mt-4 flex flex-col items-start gap-2">
        <input type="hidden" name="runId" value={runId} />
        <button
          type="submit"
          disabled={pending}
          className="rounded-md bg-brand-600 px-5 py-2.5 font-medium text-white shadow-sm hover:bg-brand-700 disabled:opacity-50"
        >
          {pending ? "Preparing…" : "Ask another admin"}
        </button>
        {state && !state.ok ? (
          <p role="alert" className="text-sm text-red-800">
            {state.message}
          </p>
        ) : null}
      </form>
    );
  }
  return (
    <div className="mt-4 space-y-3">
      <div>
        <label htmlFor={ids.link} className="block text-sm font-medium text-slate-700">
          Link to this run
        </label>
        <div className="mt-1 flex flex-wrap items-center gap-3">
          <input
            id={ids.link}
            readOnly
            value={link}
            className="w-full max-w-xl rounded border border-slate-300 bg-white px-2 py-1 font-mono text-sm"
          />
          <CopyButton text={link} what="link" />
        </div>
      </div>
      <div>
        <label htmlFor={ids.message} className="block text-sm font-medium text-slate-700">
          Message for the other admin
        </label>
        <textarea
          id={ids.message}
          readOnly
          value={message}
          rows={7}
          className="mt-1 w-full max-w-xl rounded border border-slate-300 bg-white px-2 py-1 text-sm"
        />
        <div className="mt-1 flex flex-wrap items-center gap-4">
          <CopyButton text={message} what="message" />
          <a href={mailto} className="text-sm text-brand-700 underline">
            Email the request
          </a>
        </div>
      </div>
    </div>
  );
}
