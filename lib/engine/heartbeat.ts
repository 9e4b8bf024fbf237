// Keeps a step's lease alive while its execution works.
import { renewStepLease } from "@/lib/db";

/** A running heartbeat; `lost` turns true once the lease was taken over or released by someone else. */
export interface Heartbeat {
  readonly lost: boolean;
  stop(): Promise<void>;
}

/** Renews owner's step lease every ttl/3, so two missed renewals still leave it held. */
export function startHeartbeat(runId: string, stepId: string, owner: string, ttlMs: number): Heartbeat {
  return startLeaseHeartbeat(() => renewStepLease(runId, stepId, owner, ttlMs), ttlMs);
}

/** Calls `renew` every ttl/3 until stopped or until it answers false (the lease is someone else's now). */
export function startLeaseHeartbeat(renew: () => Promise<boolean>, ttlMs: number): Heartbeat {
  let lost = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const tick = async () => {
    try {
      if (!(await renew())) lost = true;
    } catch {
      // A database hiccup: the lease still has two thirds of its time left, try again at the next beat.
    }
    schedule();
  };
  const schedule = () => {
    if (stopped || lost) return;
    timer = setTimeout(() => {
      inFlight = tick();
    }, Math.max(1, Math.floor(ttlMs / 3)));
    timer.unref?.();
  };
  schedule();

  return {
    get lost() {
      return lost;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // A renewal still in flight must not land after the caller released the lease (it would fail harmlessly,
      // but the caller may assert on the row right away).
      await inFlight;
    },
  };
}
