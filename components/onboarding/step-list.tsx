// The stepper: each step's status, live progress, what it created (with Azure Portal links), why it failed and what it waits for.
// Independent steps run side by side, so several can show Running at once and a failed step can sit beside a done branch.
import type { StepRun } from "@/lib/db/step-runs";
import { attentionHeadline, clustersNeedingAttention, summarizeStep } from "@/lib/onboarding/step-summary";
import { LiveStepProgress } from "./live-progress";
import { maskText } from "@/lib/presenter";
import type { RunConfig } from "@/lib/steps/config";
import { heldBackBy, needsOf, STEPS, stepById, type StepId } from "@/lib/steps/registry";

const STATUS: Record<string, { label: string; tone: string; icon: string }> = {
  pending: { label: "Pending", tone: "bg-slate-100 text-slate-700", icon: "○" },
  running: { label: "Running", tone: "bg-sky-100 text-sky-900", icon: "◐" },
  done: { label: "Done", tone: "bg-emerald-100 text-emerald-900", icon: "✓" },
  attention: { label: "Done with exceptions", tone: "bg-amber-100 text-amber-900", icon: "!" },
  failed: { label: "Failed", tone: "bg-red-100 text-red-900", icon: "✕" },
  needs_admin: { label: "Needs another admin", tone: "bg-amber-100 text-amber-900", icon: "!" },
  interrupted: { label: "Interrupted", tone: "bg-amber-100 text-amber-900", icon: "‖" },
  blocked: { label: "Held back", tone: "bg-slate-100 text-slate-700", icon: "⏸" },
};

/** "A", "A and B", "A, B and C". */
function titles(ids: readonly StepId[]): string {
  const names = ids.map((id) => stepById(id).title);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : (names[0] ?? "");
}

/**
 * The displayed status: a running step whose lease lapsed was interrupted (server restart, crash); a done step that
 * could not do everything (some clusters need attention) is done with exceptions; a pending step waiting on a failed
 * one (given the run's `steps`) is held back.
 */
export function displayStatus(step: StepRun, now: Date, steps: readonly StepRun[] = []): keyof typeof STATUS {
  if (step.status === "done" && step.attention?.length) return "attention";
  if (step.status === "running" && step.leaseExpiresAt && step.leaseExpiresAt < now) return "interrupted";
  if (step.status === "pending" && step.error?.code === "interrupted") return "interrupted";
  if (step.status === "pending" && heldBackBy(step.stepId as StepId, steps).length) return "blocked";
  return step.status;
}

export function StepList({
  steps,
  portalUrl,
  config,
  tenantId,
  now,
  presenter = false,
  secretHints = true,
}: {
  steps: StepRun[];
  portalUrl: string;
  config: RunConfig;
  tenantId: string;
  now: Date;
  /** Presenter mode: ids masked in every text, no Azure Portal links. */
  presenter?: boolean;
  /** Show the client secret's first characters: only to a user who may manage the app's credentials. */
  secretHints?: boolean;
}) {
  const shown = presenter ? maskText : (text: string) => text;
  return (
    <ol className="space-y-3">
      {STEPS.map((meta, index) => {
        const step = steps.find((s) => s.stepId === meta.id);
        const status = step ? displayStatus(step, now, steps) : "pending";
        // What a step that hasn't started waits for: the failed steps holding it back, else the unfinished steps it needs.
        const heldBack = status === "blocked" ? heldBackBy(meta.id, steps) : [];
        const waitsFor =
          status === "pending" && step?.status === "pending"
            ? needsOf(meta.id).filter((n) => steps.some((s) => s.stepId === n && s.status !== "done"))
            : [];
        const style = STATUS[status] ?? STATUS.pending!;
        const created =
          step?.status === "done" ? summarizeStep(meta.id, step.outputs, { portalUrl, tenantId, config, presenter, secretHints }) : [];
        const headingId = `step-${meta.id}`;
        return (
          <li key={meta.id} aria-labelledby={headingId} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <div className="flex flex-wrap items-center justify-between gap-3">
              <h2 id={headingId} className="font-semibold text-slate-900">
                <span aria-hidden className="mr-2 inline-grid h-6 w-6 place-items-center rounded-full bg-slate-100 text-xs">
                  {index + 1}
                </span>
                {meta.title}
              </h2>
              <span className={`rounded-full px-3 py-0.5 text-sm font-medium ${style.tone}`}>
                <span aria-hidden>{style.icon} </span>
                {style.label}
              </span>
            </div>
            <p className="mt-1 text-sm text-slate-600">{meta.summary}</p>
            {heldBack.length ? (
              <p className="mt-2 text-sm text-slate-700">
                Waits for {titles(heldBack)}, which {heldBack.length > 1 ? "need" : "needs"} attention; Retry runs{" "}
                {heldBack.length > 1 ? "them" : "it"} again, then this step.
              </p>
            ) : waitsFor.length ? (
              <p className="mt-2 text-sm text-slate-600">
                Starts once {titles(waitsFor)} {waitsFor.length > 1 ? "are" : "is"} done.
              </p>
            ) : null}
            {step?.status === "running" && step.progress ? (
              <LiveStepProgress
                runId={step.runId}
                stepId={meta.id}
                title={meta.title}
                initial={{ ...step.progress, label: shown(step.progress.label) }}
              />
            ) : null}
            {step?.error && status !== "done" ? (
              <div
                role={status === "failed" || status === "needs_admin" ? "alert" : undefined}
                className="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-900"
              >
                <p>{shown(step.error.message)}</p>
                {step.error.requiredRole ? <p className="mt-1">Needed: {shown(step.error.requiredRole)}.</p> : null}
                {step.error.whoCanAct ? <p className="mt-1">Who can act: {shown(step.error.whoCanAct)}.</p> : null}
              </div>
            ) : null}
            {step?.status === "done" && step.attention?.length ? (
              <div className="mt-3 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-950">
                <p className="font-medium">{attentionHeadline(clustersNeedingAttention(step.attention).length)}</p>
                <ul className="mt-1 space-y-2" aria-label={`What ${meta.title} could not do`}>
                  {step.attention.map((a, i) => (
                    <li key={presenter ? i : `${a.resourceId}|${a.code}`}>
                      <p>
                        <span className="font-semibold">{shown(a.subject)}</span>: {shown(a.reason)}
                      </p>
                      <p>What to do: {shown(a.action)}</p>
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
            {created.length > 0 ? (
              <ul className="mt-3 space-y-1 text-sm" aria-label={`What ${meta.title} set up`}>
                {created.map((line) => (
                  <li key={line.text}>
                    {line.href ? (
                      <a className="text-brand-700 underline" href={line.href} target="_blank" rel="noreferrer">
                        {line.text}
                      </a>
                    ) : (
                      <span className="text-slate-700">{line.text}</span>
                    )}
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}
