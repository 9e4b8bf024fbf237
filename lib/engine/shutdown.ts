// Graceful shutdown: a process-wide drain that stops new jobs and writes, waits a bounded time for the jobs under way
// to end (each releases its own lease), then closes the database and lets the process exit.
import "server-only";

/** Thrown into a job the drain stopped: the server is shutting down, so the job was handed back for a resume. */
export class ShutdownError extends Error {
  constructor() {
    super("The portal server is shutting down");
    this.name = "ShutdownError";
  }
}

interface DrainState {
  draining: boolean;
  /** Aborts when the grace period is over: jobs still running are cut off and release their leases. */
  graceOver: AbortController;
  /** Every job between its acquire and its release. */
  jobs: Set<Promise<unknown>>;
  started?: Promise<DrainSummary>;
}

// On globalThis: instrumentation (which handles the signal) and the route bundles (which run jobs) are separate module graphs.
const stateKey = Symbol.for("portal.shutdown");
const installedKey = Symbol.for("portal.shutdown.installed");
function state(): DrainState {
  const g = globalThis as { [stateKey]?: DrainState };
  return (g[stateKey] ??= { draining: false, graceOver: new AbortController(), jobs: new Set() });
}

/** True once this process began shutting down: no job or step starts, no write-ahead entry is logged. */
export function draining(): boolean {
  return state().draining;
}

/** Runs a whole job (acquire to release) as one the drain waits for. */
export function trackJob<T>(job: Promise<T>): Promise<T> {
  const { jobs } = state();
  jobs.add(job);
  const forget = () => void jobs.delete(job);
  job.then(forget, forget);
  return job;
}

/** `work`, or a ShutdownError once the drain's grace period is over; work that goes on regardless is left behind. */
export function unlessShutDown<T>(work: Promise<T>): Promise<T> {
  const { signal } = state().graceOver;
  if (signal.aborted) return Promise.reject(new ShutdownError());
  let onAbort = () => {};
  const cutOff = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ShutdownError());
    signal.addEventListener("abort", onAbort, { once: true });
  });
  // The signal lives as long as the process: each job's listener goes with the job, or they would pile up.
  return Promise.race([work, cutOff]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** What a drain found: jobs that ended by themselves within the grace period, jobs cut off after it, jobs left hanging. */
export interface DrainSummary {
  ended: number;
  cutOff: number;
  /** Jobs whose release did not answer within the release bound (a hung database): their leases lapse by TTL. */
  hanging: number;
  ms: number;
}

const DEFAULT_RELEASE_MS = 5_000;

/** Bounds of a drain. */
export interface DrainOptions {
  /** How long jobs under way may take to end by themselves. */
  graceMs: number;
  /** How long cut-off jobs may take to release their leases (one database round trip each). */
  releaseMs?: number;
  now?: () => number;
}

/**
 * Stops new jobs and writes, waits up to graceMs for the jobs under way, then cuts the rest off (each releases its
 * lease as interrupted) and waits up to releaseMs for that. Idempotent: later calls return the first drain.
 */
export function drain(options: DrainOptions): Promise<DrainSummary> {
  const s = state();
  s.draining = true;
  s.started ??= (async () => {
    const now = options.now ?? Date.now;
    const t0 = now();
    const before = s.jobs.size;
    await settledWithin([...s.jobs], options.graceMs);
    const cutOff = s.jobs.size;
    s.graceOver.abort();
    await settledWithin([...s.jobs], options.releaseMs ?? DEFAULT_RELEASE_MS);
    return { ended: before - cutOff, cutOff, hanging: s.jobs.size, ms: now() - t0 };
  })();
  return s.started;
}

/** Waits until every promise settled or ms passed. */
async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Forgets a drain and the installed handlers (tests only: a process drains once). */
export function resetDrainForTests(): void {
  const g = globalThis as { [stateKey]?: DrainState; [installedKey]?: boolean };
  g[stateKey] = undefined;
  g[installedKey] = undefined;
}

/** What a shutdown does after the drain; injected so tests don't close their database or exit. */
export interface ShutdownHooks extends DrainOptions {
  closeDatabase(): Promise<void>;
  /** Called with what happened; the one report of a shutdown. */
  report(summary: DrainSummary & { signal: NodeJS.Signals; databaseClosed: boolean }): void;
}

/**
 * Installs the SIGTERM / SIGINT handling: drain, close the database, then hand the signal to the handlers that were
 * there before (`next start` closes its HTTP server and exits with 128 + signal), or exit when there were none.
 * Next registers its handlers before instrumentation runs, and calls process.exit itself, so they are taken off the
 * signal and called once the drain is done. NEXT_MANUAL_SIG_HANDLE (Next's own switch) leaves none to call.
 */
export function installShutdownHandlers(hooks: ShutdownHooks): void {
  // Once per process: a second install would take the first one's handler for Next's and drain twice.
  const g = globalThis as { [installedKey]?: boolean };
  if (g[installedKey]) return;
  g[installedKey] = true;
  let shuttingDown: Promise<void> | undefined;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const previous = process.listeners(signal);
    process.removeAllListeners(signal);
    process.on(signal, () => {
      // A second signal (a shell's Ctrl+C reaches every process of the group) joins the shutdown under way.
      shuttingDown ??= (async () => {
        const summary = await drain(hooks);
        // A database that hangs must not hold the exit: its close gets the release bound too.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const databaseClosed = await Promise.race([
          hooks.closeDatabase().then(
            () => true,
            () => false,
          ),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), hooks.releaseMs ?? DEFAULT_RELEASE_MS))),
        ]);
        clearTimeout(timer);
        hooks.report({ ...summary, signal, databaseClosed });
        if (previous.length === 0) process.exit(signal === "SIGINT" ? 130 : 143);
        for (const listener of previous) (listener as (s: NodeJS.Signals) => void)(signal);
      })();
    });
  }
}
