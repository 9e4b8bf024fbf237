// Server start: refuse to run with bad configuration, bring the schema up to date, flag interrupted steps, prune, and
// drain on SIGTERM/SIGINT.
import "server-only";
import { deleteExpiredAuthRequests } from "@/lib/db/auth-requests";
import { migrate, shutDownDb } from "@/lib/db/client";
import { deleteExpiredRunSecrets } from "@/lib/db/run-secrets";
import { deleteExpiredSessions } from "@/lib/db/sessions";
import { resumeInterruptedSteps } from "@/lib/engine/recover";
import { draining, installShutdownHandlers } from "@/lib/engine/shutdown";
import { env } from "@/lib/env";
import { errorText, log } from "@/lib/log";
import { metrics } from "@/lib/metrics";

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Called once from instrumentation.ts when the Node.js server boots. */
export async function startup(): Promise<void> {
  try {
    env();
  } catch (error) {
    // The logger reads only LOG_LEVEL and LOG_FORMAT, so it works with the rest of the configuration invalid.
    log().fatal({ event: "config.invalid" }, error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  const { applied } = await migrate();
  if (applied.length > 0) log().info({ event: "db.migrated", migrations: applied }, `applied migrations: ${applied.join(", ")}`);
  await flagInterrupted();
  await pruneExpired();
  const timers = [
    setInterval(() => void pruneExpired(), PRUNE_EVERY_MS).unref(),
    // Leases still live at boot expire up to a lease TTL later: look again every minute.
    setInterval(() => void flagInterrupted(), 60_000).unref(),
  ];
  installShutdownHandlers({
    graceMs: env().SHUTDOWN_GRACE_SECONDS * 1000,
    closeDatabase: () => {
      for (const timer of timers) clearInterval(timer);
      return shutDownDb();
    },
    report: (s) =>
      log().info(
        { event: "shutdown", ...s },
        `${s.signal}: ${s.ended} jobs ended, ${s.cutOff} handed back after the grace period, ${s.hanging} left to lapse, in ${s.ms} ms; database ${s.databaseClosed ? "closed" : "close failed"}`,
      ),
  });
}

async function flagInterrupted(): Promise<void> {
  if (draining()) return;
  try {
    const interrupted = await resumeInterruptedSteps({ leaseTtlMs: env().STEP_LEASE_TTL_SECONDS * 1000 });
    if (interrupted.length > 0) {
      // Each flagged step's expired lease was taken (and given back as interrupted) by this sweep.
      metrics().leaseTakeovers.inc({ job: "step", by: "recovery" }, interrupted.length);
      for (const step of interrupted)
        log().warn({ event: "step.interrupted", ...step }, `step ${step.stepId} flagged interrupted; its run offers Resume`);
    }
  } catch (error) {
    log().warn({ event: "recovery.failed", error: errorText(error) }, "flagging interrupted steps failed");
  }
}

async function pruneExpired(): Promise<void> {
  try {
    const [sessions, requests, secrets] = await Promise.all([
      deleteExpiredSessions(),
      deleteExpiredAuthRequests(),
      deleteExpiredRunSecrets(),
    ]);
    if (sessions + requests + secrets > 0) {
      log().info(
        { event: "db.pruned", sessions, signIns: requests, runSecrets: secrets },
        `pruned ${sessions} expired sessions, ${requests} stale sign-ins, ${secrets} expired run secrets`,
      );
    }
  } catch (error) {
    log().warn({ event: "db.prune_failed", error: errorText(error) }, "pruning expired sessions failed");
  }
}
