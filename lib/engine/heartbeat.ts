// Keeps a job's lease alive while its execution makes progress, and gives the lease up when it stops making any.
import "server-only";
import { formatSeconds } from "@/lib/azure/timeouts";
import { renewLease, type LeaseKey } from "@/lib/db";

/** A running heartbeat; `lost` turns true once the lease was taken over or released by someone else. */
export interface Heartbeat {
  readonly lost: boolean;
  /** True once the execution went `stallMs` without progress: renewals stopped and `signal` aborted. */
  readonly stalled: boolean;
  /** Aborts when the execution stalled; the work under it (outbound calls, waits) is cut off with it. */
  readonly signal: AbortSignal;
  /** The execution made progress (a write started or finished, a progress report, a retry wait, a service answered). */
  touch(): void;
  stop(): Promise<void>;
}

/** When an execution counts as stalled; without it the lease is renewed for as long as the process lives. */
export interface StallOptions {
  stallMs?: number;
  now?: () => number;
}

/** Thrown into the work of a stalled execution through its signal. */
export class StepStalledError extends Error {
  constructor(readonly stallMs: number) {
    super(`No progress for ${formatSeconds(stallMs)}`);
    this.name = "StepStalledError";
  }
}

/** `work`, or a StepStalledError as soon as the heartbeat stalls; work that ignores the signal is left behind. */
export function unlessStalled<T>(heartbeat: Heartbeat, work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      const stalled = () => reject(heartbeat.signal.reason instanceof Error ? heartbeat.signal.reason : new StepStalledError(0));
      if (heartbeat.signal.aborted) stalled();
      else heartbeat.signal.addEventListener("abort", stalled, { once: true });
    }),
  ]);
}

/** Renews owner's lease every ttl/3, so two missed renewals still leave it held, until the job stalls. */
export function startHeartbeat(lease: LeaseKey, owner: string, ttlMs: number, stall: StallOptions = {}): Heartbeat {
  return startLeaseHeartbeat(() => renewLease(lease, owner, ttlMs), ttlMs, stall);
}

/**
 * Calls `renew` every ttl/3 until stopped, until it answers false (the lease is someone else's now), or until no
 * touch() came for `stallMs`: then it aborts `signal` and renews no more, so the lease lapses within one TTL even if
 * the work ignores the signal (a connection that hangs where no limit reaches). Checked at each beat, so a stall is
 * noticed up to ttl/3 after the bound.
 */
export function startLeaseHeartbeat(renew: () => Promise<boolean>, ttlMs: number, stall: StallOptions = {}): Heartbeat {
  const now = stall.now ?? Date.now;
  const controller = new AbortController();
  let lost = false;
  let stopped = false;
  let lastProgress = now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const tick = async () => {
    if (stall.stallMs !== undefined && now() - lastProgress > stall.stallMs) {
      controller.abort(new StepStalledError(stall.stallMs));
      return;
    }
    try {
      if (!(await renew())) lost = true;
    } catch {
      // A database hiccup: the lease still has two thirds of its time left, try again at the next beat.
    }
    schedule();
  };
  const schedule = () => {
    if (stopped || lost) return;
    timer = setTimeout(
      () => {
        inFlight = tick();
      },
      Math.max(1, Math.floor(ttlMs / 3)),
    );
    timer.unref?.();
  };
  schedule();

  return {
    get lost() {
      return lost;
    },
    get stalled() {
      return controller.signal.aborted;
    },
    signal: controller.signal,
    touch() {
      lastProgress = now();
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
