// Step statuses for the vendor view: one labelled badge per step, in run order.
import { completedRunText } from "@/lib/onboarding/step-summary";
import type { VendorStep, VendorStepStatus } from "@/lib/vendor-view/runs";

const STATUS: Record<VendorStepStatus, { label: string; tone: string; icon: string }> = {
  pending: { label: "Pending", tone: "bg-slate-100 text-slate-700", icon: "○" },
  running: { label: "Running", tone: "bg-sky-100 text-sky-900", icon: "◐" },
  done: { label: "Done", tone: "bg-emerald-100 text-emerald-900", icon: "✓" },
  attention: { label: "Done with exceptions", tone: "bg-amber-100 text-amber-900", icon: "!" },
  failed: { label: "Failed", tone: "bg-red-100 text-red-900", icon: "✕" },
  needs_admin: { label: "Needs another admin", tone: "bg-amber-100 text-amber-900", icon: "!" },
  interrupted: { label: "Interrupted", tone: "bg-amber-100 text-amber-900", icon: "‖" },
  held_back: { label: "Held back", tone: "bg-slate-100 text-slate-700", icon: "⏸" },
};

/** The text of a step's status, e.g. "Done". */
export function stepStatusLabel(status: VendorStepStatus): string {
  return STATUS[status].label;
}

/** A compact list of every step's status (name and status are both in the accessible text). */
export function StepStatusList({ steps, label }: { steps: VendorStep[]; label: string }) {
  return (
    <ul aria-label={label} className="flex flex-wrap gap-1.5">
      {steps.map((step) => {
        const style = STATUS[step.status];
        return (
          <li key={step.stepId} className={`rounded-full px-2 py-0.5 text-xs font-medium ${style.tone}`}>
            <span aria-hidden>{style.icon} </span>
            {step.title}: {style.label}
          </li>
        );
      })}
    </ul>
  );
}

/** A run's status in words; a completed one says how many clusters need attention. */
export function runStatusText(run: { status: string; clustersNeedingAttention: number }): string {
  if (run.status === "completed" && run.clustersNeedingAttention > 0) return completedRunText(run.clustersNeedingAttention);
  return RUN_STATUS_TEXT[run.status] ?? run.status;
}

/** Run statuses in words. */
export const RUN_STATUS_TEXT: Record<string, string> = {
  draft: "Draft",
  planned: "Plan waiting for confirmation",
  running: "In progress",
  completed: "Complete",
  failed: "Stopped: needs attention",
  cancelled: "Cancelled",
};

/** A timestamp as the other pages show it: UTC, to the minute. */
export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
