"use client";
// A running step's progress, kept current by the run page's poll between server renders (no re-render per write).
import { useSyncExternalStore } from "react";

/** A step's progress as the status endpoint reports it. */
export interface StepProgressValue {
  done: number;
  total: number;
  label: string;
}

type Snapshot = { runId: string; progress: Record<string, StepProgressValue> } | null;

let snapshot: Snapshot = null;
const listeners = new Set<() => void>();

/** Publishes the latest polled progress of a run (null: forget it, the server's render is newer). */
export function publishProgress(next: Snapshot): void {
  snapshot = next;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The step's progress bar: the polled value when there is one for this run, else what the server rendered. */
export function LiveStepProgress({
  runId,
  stepId,
  title,
  initial,
}: {
  runId: string;
  stepId: string;
  title: string;
  initial: StepProgressValue;
}) {
  const live = useSyncExternalStore(
    subscribe,
    () => snapshot,
    () => null,
  );
  const progress = (live?.runId === runId ? live.progress[stepId] : undefined) ?? initial;
  return (
    <div className="mt-3">
      <p role="status" className="text-sm text-slate-700">
        {progress.label}
      </p>
      <progress className="mt-1 h-2 w-full" max={Math.max(progress.total, 1)} value={progress.done} aria-label={`${title} progress`} />
    </div>
  );
}
