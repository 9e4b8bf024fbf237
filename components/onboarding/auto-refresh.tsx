"use client";
// Live progress without a reload. With a run's change fingerprint, it polls /onboarding/{runId}/status: a moved
// fingerprint re-renders from the server; otherwise the running steps' progress is updated in place. Without one, it
// re-renders every few seconds.
import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { z } from "zod";
import { publishProgress } from "./live-progress";

const changeSchema = z.object({
  stamp: z.string(),
  progress: z.record(z.string(), z.object({ done: z.number(), total: z.number(), label: z.string() })),
});

export function AutoRefresh({
  active,
  watch,
  everyMs = 1500,
}: {
  active: boolean;
  watch?: { runId: string; stamp: string };
  everyMs?: number;
}) {
  const router = useRouter();
  const seen = useRef(watch?.stamp);
  const runId = watch?.runId;
  const stamp = watch?.stamp;
  // The server's latest render is what the poll compares against.
  useEffect(() => {
    seen.current = stamp;
  }, [stamp]);
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    const poll = async () => {
      if (!runId) return router.refresh();
      try {
        const res = await fetch(`/onboarding/${encodeURIComponent(runId)}/status`, { cache: "no-store" });
        const parsed = res.ok ? changeSchema.safeParse(await res.json()) : null;
        if (stopped) return;
        // A failed poll (signed out, server restarting) falls back to a full re-render, which shows the reason.
        if (!parsed?.success || parsed.data.stamp !== seen.current) {
          publishProgress(null);
          router.refresh();
        } else {
          publishProgress({ runId, progress: parsed.data.progress });
        }
      } catch {
        if (!stopped) router.refresh();
      }
    };
    const id = setInterval(() => void poll(), everyMs);
    return () => {
      stopped = true;
      clearInterval(id);
    };
  }, [active, everyMs, router, runId]);
  return null;
}
