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

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Called once from instrumentation.ts when the Node.js server boots. */
export async function startup(): Promise<void> {
  try {
    env();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
  const { applied } = await migrate();
  if (applied.length > 0) console.info(`[db] applied migrations: ${applied.join(", ")}`);
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
      console.info(
        `[shutdown] ${s.signal}: ${s.ended} jobs ended, ${s.cutOff} handed back after the grace period, ${s.hanging} left to lapse, in ${s.ms} ms; database ${s.databaseClosed ? "closed" : "close failed"}`,
      ),
  });
}

async function flagInterrupted(): Promise<void> {
  if (draining()) return;
  try {
    const interrupted = await resumeInterruptedSteps({ leaseTtlMs: env().STEP_LEASE_TTL_SECONDS * 1000 });
    if (interrupted.length > 0) console.info(`[engine] ${interrupted.length} interrupted steps flagged; their runs offer Resume`);
  } catch (error) {
    console.warn(`[engine] flagging interrupted steps failed: ${error instanceof Error ? error.message : "unknown error"}`);
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
      console.info(`[db] pruned ${sessions} expired sessions, ${requests} stale sign-ins, ${secrets} expired run secrets`);
    }
  } catch (error) {
    console.warn(`[db] pruning expired sessions failed: ${error instanceof Error ? error.message : "unknown error"}`);
  }
}
