// One "portal instance" of test/reliability/concurrency-postgres.test.ts: its own process and database connection pool,
// sharing PostgreSQL and a simulator with the others. Says "ready", waits for "go" on stdin, continues the run, prints the
// outcome as JSON. Usage: tsx concurrent-run-worker.ts <runId>   (ARM/Graph/Workbench endpoints and DATABASE_URL from the parent)
import "../../scripts/server-only-shim";
import { closeDb, configureDb } from "../../lib/db";
import { runRemainingSteps } from "../../lib/engine/drive-run";
import { STEP_MODULES } from "../../lib/engine/step-modules";
import type { TokenProvider } from "../../lib/auth/tokens";
import { simToken } from "../../simulator/src/testing";

const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
const OWNER = "owner@contoso.onmicrosoft.com";
const POLICY = {
  leaseTtlMs: 5_000,
  transientBaseDelayMs: 20,
  transientMaxDelayMs: 100,
  retryAfterMaxMs: 100,
  replicationBaseDelayMs: 100,
  replicationMaxDelayMs: 400,
  replicationBudgetMs: 30_000,
};

async function main(runId: string): Promise<void> {
  const simUrl = process.env.ARM_ENDPOINT ?? "";
  configureDb({ databaseUrl: process.env.DATABASE_URL, dataDir: ".test-data/unused" });
  const tokens: TokenProvider = async (resource) => ({
    ok: true,
    token: await simToken({ url: simUrl }, { upn: OWNER, resource }),
    expiresOn: new Date(Date.now() + 3_600_000),
  });
  const go = new Promise((r) => process.stdin.once("data", r));
  process.stdout.write("ready\n");
  await go;
  process.stdin.pause();
  const started = Date.now();
  const result = await runRemainingSteps({
    runId,
    tenantId: TENANT,
    actor: { userId: null, upn: `${OWNER}#${process.pid}` },
    tokens,
    modules: STEP_MODULES,
    policy: POLICY,
  });
  process.stdout.write(`REPORT ${JSON.stringify({ pid: process.pid, runId, started, ended: Date.now(), result })}\n`);
  await closeDb();
}

if (process.argv[1]?.endsWith("concurrent-run-worker.ts")) {
  main(process.argv[2] ?? "").catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
