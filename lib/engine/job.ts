// The one job runner of every leased job (a step, an offboarding, a credential rotation): take the lease, keep it alive
// while the work makes progress, run the work under the stall signal, and give the lease back however the work ended.
import "server-only";
import { withOutboundScope } from "@/lib/azure/timeouts";
import { acquireLease, LeaseLostError, logStepIdOf, type LeaseKey } from "@/lib/db";
import { errorText, log, withLogContext } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { startHeartbeat, unlessStalled, type Heartbeat } from "./heartbeat";
import { draining, ShutdownError, trackJob, unlessShutDown } from "./shutdown";

/** How the work ended: it returned, it stalled (cut off), its lease was lost, or it threw (a crash of its own). */
export type JobEnd<T> = { kind: "finished"; value: T } | { kind: "stalled" } | { kind: "lease_lost" } | { kind: "crashed"; error: unknown };

/** What the work sees of its job. */
export interface Job {
  readonly lease: LeaseKey;
  readonly owner: string;
  readonly heartbeat: Heartbeat;
  /** Throws LeaseLostError once the lease is lost, the job stalled or the server is shutting down: call before each unit of work. */
  check(): void;
  /** True while the lease is held, the job has not stalled and the server is not shutting down. */
  live(): boolean;
}

/** A job to run under its lease. */
export interface JobSpec<T> {
  lease: LeaseKey;
  /** Unique per execution (newLeaseOwner()). */
  owner: string;
  ttlMs: number;
  /** No progress for this long cuts the work off and stops renewing the lease. */
  stallMs: number;
  /** The caller already holds the lease as `owner` (an action that acquired before answering, a rotation created holding it). */
  held?: boolean;
  /** Takes the lease; by default the one conditional acquire of lib/db/leases.ts. */
  acquire?: () => Promise<boolean>;
  work(job: Job): Promise<T>;
  /** Gives the lease back for this end, with its outcome; false when the lease was lost meanwhile. */
  release(end: JobEnd<T>): Promise<boolean>;
}

/** busy: another execution holds the lease; ended: the work ran, and whether this execution's release went through. */
export type JobResult<T> = { kind: "busy" } | { kind: "ended"; end: JobEnd<T>; released: boolean };

/**
 * Runs `spec.work` under its lease; never returns with the lease still held by a live heartbeat. While the server shuts
 * down (lib/engine/shutdown.ts) no job starts, and a running one stops before its next write: it ends as crashed with a
 * ShutdownError, so its release hands the work back (a step becomes interrupted) for another server to resume.
 */
export function runJob<T>(spec: JobSpec<T>): Promise<JobResult<T>> {
  return trackJob(runTracked(spec));
}

async function runTracked<T>(spec: JobSpec<T>): Promise<JobResult<T>> {
  const { lease, owner } = spec;
  if (draining()) {
    const end: JobEnd<T> = { kind: "crashed", error: new ShutdownError() };
    // A lease the caller took for this job goes back at once; one not taken stays with whoever holds it.
    return { kind: "ended", end, released: spec.held ? await spec.release(end).catch(() => false) : false };
  }
  const acquire = spec.acquire ?? (() => acquireLease(lease, owner, spec.ttlMs));
  if (!spec.held && !(await acquire())) return { kind: "busy" };
  const heartbeat = startHeartbeat(lease, owner, spec.ttlMs, { stallMs: spec.stallMs });
  metrics().jobsWorking.inc({ job: lease.kind });
  const started = performance.now();
  // Steps log their own start and end, with the step's outcome (lib/engine/execute-step.ts).
  const logged = lease.kind !== "step";
  if (logged) log().info({ event: "job.start", job: lease.kind, runId: lease.runId }, `${lease.kind} started`);
  const held = () => !heartbeat.lost && !heartbeat.stalled;
  // Set once the drain refused the work its next unit: whatever the work returns after that was cut short by the shutdown.
  let cutByDrain = false;
  const live = () => {
    if (held() && draining()) cutByDrain = true;
    return held() && !cutByDrain;
  };
  const job: Job = {
    lease,
    owner,
    heartbeat,
    live,
    check() {
      if (!live()) throw new LeaseLostError(lease.runId, logStepIdOf(lease));
    },
  };
  let end: JobEnd<T>;
  try {
    // Every outbound call of the work carries the stall signal (a stall cuts off the requests in flight), and every
    // answer it gets counts as progress: a long-running operation's polls keep a slow job alive, a hang does not.
    // Every line the work logs (its requests, its retries) carries the run and the write-ahead log's step id.
    const inContext = () => withLogContext({ runId: lease.runId, stepId: logStepIdOf(lease) }, () => spec.work(job));
    const work = withOutboundScope({ signal: heartbeat.signal, onAnswer: () => heartbeat.touch() }, inContext);
    // Work that ignores the signal (a hang no limit reaches) is left behind: it can't log another write once the lease
    // is released below, and the job returns instead of waiting for it forever.
    end = { kind: "finished", value: await unlessStalled(heartbeat, unlessShutDown(work)) };
  } catch (error) {
    end = heartbeat.stalled
      ? { kind: "stalled" }
      : heartbeat.lost
        ? { kind: "lease_lost" }
        : cutByDrain || error instanceof ShutdownError
          ? { kind: "crashed", error: new ShutdownError() }
          : error instanceof LeaseLostError
            ? { kind: "lease_lost" }
            : { kind: "crashed", error };
  }
  await heartbeat.stop();
  // Work that returned while the job was already cut off or taken over ends as that: its outcome is not to be recorded.
  if (end.kind === "finished" && !held()) end = heartbeat.stalled ? { kind: "stalled" } : { kind: "lease_lost" };
  else if (end.kind === "finished" && cutByDrain) end = { kind: "crashed", error: new ShutdownError() };
  // If the database is what hangs, this release hangs too; the lease, no longer renewed, lapses all the same.
  const released = await spec.release(end).catch(() => false);
  metrics().jobsWorking.dec({ job: lease.kind });
  if (end.kind === "lease_lost") metrics().leasesLost.inc({ job: lease.kind });
  if (logged) {
    const durationMs = Math.round(performance.now() - started);
    const error = end.kind === "crashed" ? { error: errorText(end.error) } : {};
    log()[end.kind === "finished" ? "info" : "warn"](
      { event: "job.end", job: lease.kind, runId: lease.runId, outcome: end.kind, durationMs, released, ...error },
      `${lease.kind} ended: ${end.kind}`,
    );
  }
  return { kind: "ended", end, released };
}
