"use client";
// The manual hand-off (no Workbench API): values to copy for the vendor, a one-time secret reveal, and the acknowledgement.
// The secret value exists only in this component's state, from the reveal action's response; the page never renders it.
import { useActionState, useId, useState } from "react";
import { acknowledgeHandoffAction, revealSecretAction } from "@/app/onboarding/handoff-actions";
import type { ActionResult } from "@/lib/action-result";
import type { HandoffMark, ManualHandoff } from "@/lib/onboarding/manual-handoff";

const BUTTON = "rounded-md px-4 py-2 font-medium disabled:opacity-50";
const PRIMARY = `${BUTTON} bg-brand-600 text-white shadow-sm hover:bg-brand-700`;
const SECONDARY = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100";

function utc(at: Date | string): string {
  return `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

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
      <button type="button" className={SECONDARY} onClick={() => void copy()} aria-label={`Copy ${what}`}>
        Copy
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

function Field({ label, value, masked = false }: { label: string; value: string; masked?: boolean }) {
  return (
    <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
      <dt className="w-40 text-sm font-medium text-slate-700">{label}</dt>
      <dd className="flex flex-wrap items-center gap-3">
        <code className="rounded bg-slate-100 px-2 py-1 text-sm text-slate-900">{value}</code>
        {masked ? (
          <span className="text-sm text-slate-600">Shortened in presenter mode, so not copyable</span>
        ) : (
          <CopyButton text={value} what={label} />
        )}
      </dd>
    </div>
  );
}

/** The panel of a run whose Workbench hand-off is manual: copy, reveal once, acknowledge. */
export function ManualHandoffPanel({ runId, vendorName, handoff }: { runId: string; vendorName: string; handoff: ManualHandoff }) {
  const [revealState, revealAction, revealing] = useActionState<ActionResult<{ value: string }> | null, FormData>(revealSecretAction, null);
  const [ackState, ackAction, acknowledging] = useActionState<ActionResult<HandoffMark> | null, FormData>(acknowledgeHandoffAction, null);
  const [notSharing, setNotSharing] = useState(false);
  const ids = { heading: useId(), secret: useId(), confirm: useId() };

  const acknowledged: HandoffMark | null = ackState?.ok
    ? ackState.data
    : handoff.acknowledgedAt
      ? { at: handoff.acknowledgedAt, by: handoff.acknowledgedBy ?? "an admin" }
      : null;
  // A value revealed before presenter mode was turned on (another tab) disappears with the next render.
  const revealedValue = revealState?.ok && !acknowledged && !handoff.masked ? revealState.data.value : null;
  const { secret, masked } = handoff;

  return (
    <section aria-labelledby={ids.heading} className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 id={ids.heading} className="text-lg font-semibold text-slate-900">
        Hand off to {vendorName}
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        This portal has no {vendorName} Workbench API configured, so give these values to {vendorName} yourself.
      </p>
      {masked ? (
        <p className="mt-3 rounded-md bg-violet-50 px-3 py-2 text-sm text-violet-900">
          Presenter mode is on: ids are shortened and can&apos;t be copied, and the client secret can&apos;t be revealed. Turn presenter
          mode off, off-screen, to copy the ids and reveal the secret.
        </p>
      ) : null}

      <dl className="mt-4 space-y-3">
        <Field label="Tenant ID" value={handoff.tenantId} masked={masked} />
        <Field label="Client ID" value={handoff.clientId} masked={masked} />
        {handoff.storageAccounts.map((name, i) => (
          <Field key={name} label={handoff.storageAccounts.length > 1 ? `Storage account ${i + 1}` : "Storage account"} value={name} />
        ))}
        <div className="flex flex-wrap items-start gap-x-3 gap-y-1">
          <dt className="w-40 text-sm font-medium text-slate-700">Client secret</dt>
          <dd className="min-w-0 flex-1 space-y-2 text-sm">
            {acknowledged ? (
              <p className="text-slate-700">Deleted from the portal after the hand-off.</p>
            ) : revealedValue !== null ? (
              <>
                <div className="flex flex-wrap items-center gap-3">
                  <label htmlFor={ids.secret} className="sr-only">
                    Client secret value
                  </label>
                  <input
                    id={ids.secret}
                    type="text"
                    readOnly
                    value={revealedValue}
                    autoComplete="off"
                    spellCheck={false}
                    className="w-full max-w-md rounded-md border border-slate-300 bg-slate-50 px-2 py-1 font-mono text-sm"
                    onFocus={(e) => e.currentTarget.select()}
                  />
                  <CopyButton text={revealedValue} what="client secret" />
                </div>
                <p className="text-amber-900">
                  Shown once: copy it now. It disappears when you leave or reload this page and can&apos;t be shown again.
                </p>
              </>
            ) : secret.stored && masked ? (
              <>
                <p className="text-slate-800">
                  <span aria-hidden>•••••••</span>
                  <span className="sr-only">Hidden</span>
                  {secret.expiresAt ? `, expires ${utc(secret.expiresAt)}` : ""}
                </p>
                <p className="rounded-md bg-violet-50 px-3 py-2 text-violet-900">
                  Turn presenter mode off, off-screen, to reveal the secret.
                </p>
              </>
            ) : secret.stored ? (
              <>
                <p className="text-slate-800">
                  <span aria-hidden>•••••••</span>
                  <span className="sr-only">Hidden</span>
                  {secret.hint ? ` (starts with ${secret.hint}…)` : ""}
                  {secret.expiresAt ? `, expires ${utc(secret.expiresAt)}` : ""}
                </p>
                <form action={revealAction} className="space-y-2">
                  <input type="hidden" name="runId" value={runId} />
                  <p id={`${ids.confirm}-warning`} className="rounded-md bg-amber-50 px-3 py-2 text-amber-900">
                    Stop screen sharing first: the secret is shown in clear text, and only once.
                  </p>
                  <div className="flex items-center gap-2">
                    <input
                      id={ids.confirm}
                      type="checkbox"
                      checked={notSharing}
                      onChange={(e) => setNotSharing(e.currentTarget.checked)}
                      aria-describedby={`${ids.confirm}-warning`}
                      className="h-4 w-4"
                    />
                    <label htmlFor={ids.confirm}>No one else can see my screen</label>
                  </div>
                  <button type="submit" disabled={!notSharing || revealing} className={PRIMARY}>
                    {revealing ? "Revealing…" : "Reveal secret once"}
                  </button>
                </form>
              </>
            ) : secret.revealed ? (
              <p className="text-slate-700">
                Revealed by {secret.revealed.by} at {utc(secret.revealed.at)}. Ask them for it, or create a new secret for the app
                registration later.
              </p>
            ) : (
              <p className="text-slate-700">
                The portal no longer holds this secret. Create a new secret for the app registration and give that to {vendorName}.
              </p>
            )}
            {revealState && !revealState.ok ? (
              <p role="alert" className="text-red-800">
                {revealState.message}
              </p>
            ) : null}
          </dd>
        </div>
      </dl>

      <div className="mt-5 border-t border-slate-200 pt-4">
        {acknowledged ? (
          <p role="status" className="text-sm text-emerald-900">
            Handed off manually by {acknowledged.by} at {utc(acknowledged.at)}.
          </p>
        ) : (
          <form action={ackAction} className="space-y-2">
            <input type="hidden" name="runId" value={runId} />
            <p className="text-sm text-slate-600">
              {secret.stored && !revealedValue
                ? "The secret hasn't been revealed yet: acknowledging deletes it from the portal for good."
                : "Acknowledging deletes the secret from the portal."}
            </p>
            <button type="submit" disabled={acknowledging} className={PRIMARY}>
              {acknowledging ? "Saving…" : `I've given these to ${vendorName}`}
            </button>
            {ackState && !ackState.ok ? (
              <p role="alert" className="text-sm text-red-800">
                {ackState.message}
              </p>
            ) : null}
          </form>
        )}
      </div>
    </section>
  );
}
