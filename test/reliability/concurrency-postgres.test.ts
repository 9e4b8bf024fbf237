// Two "portal instances" (processes) on one real PostgreSQL continue the same run at the same instant: every write happens
// once. A third process runs another run against another simulator at the same time, and proceeds in parallel.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeDb,
  configureDb,
  confirmRunPlan,
  createRun,
  getRunForTenant,
  listOperations,
  migrate,
  setRunPlan,
  setRunStatus,
} from "../../lib/db";
import { planRun } from "../../lib/engine/plan-run";
import { STEP_MODULES } from "../../lib/engine/step-modules";
import type { TokenProvider } from "../../lib/auth/tokens";
import { STEP_IDS } from "../../lib/steps/registry";
import { ensurePostgres, type TestDatabase } from "../../scripts/postgres";
import type { RunningSimulator } from "../../simulator/src/index";
import { simJson, simToken, startTestSimulator, TEST_CLIENT, TEST_WORKBENCH_KEY } from "../../simulator/src/testing";
import { OWNER, TENANT } from "../integration/azure/support";
import { defaultRunConfig } from "../integration/steps/context";

let pg: TestDatabase;
let simA: RunningSimulator;
let simB: RunningSimulator;
const ENCRYPTION_KEY = crypto.randomBytes(32).toString("base64");

beforeAll(async () => {
  [pg, simA, simB] = await Promise.all([ensurePostgres(), startTestSimulator({ blob: true }), startTestSimulator({ blob: true })]);
  for (const sim of [simA, simB])
    await simJson(sim, "POST", "/_sim/latency", { body: { lroMs: { storageAccount: 200, providerRegistration: 0 }, replicationMs: 200 } });
  Object.assign(process.env, {
    ARM_ENDPOINT: simA.url,
    GRAPH_ENDPOINT: simA.url,
    ENTRA_AUTHORITY: `${simA.url}/organizations`,
    LOG_ANALYTICS_ENDPOINT: simA.url,
    LOG_ANALYTICS_AUDIENCE: "https://api.loganalytics.io",
    ENTRA_CLIENT_ID: TEST_CLIENT.clientId,
    ENTRA_CLIENT_SECRET: TEST_CLIENT.clientSecret,
    ENCRYPTION_KEY,
    WORKBENCH_URL: `${simA.url}/workbench`,
    WORKBENCH_API_KEY: TEST_WORKBENCH_KEY,
  });
  configureDb({ databaseUrl: pg.url, dataDir: ".test-data/unused" });
  await migrate();
}, 300_000);
afterAll(async () => {
  await closeDb();
  await Promise.all([simA?.close(), simB?.close()]);
  await pg?.drop();
});

interface WorkerReport {
  pid: number;
  runId: string;
  started: number;
  ended: number;
  result: { outcome: string; code?: string };
}

/** A worker process on `sim` for `runId`: resolves `ready` once loaded; `go()` starts it; `report` is its outcome. */
function worker(sim: RunningSimulator, runId: string) {
  const env = {
    ...process.env,
    ARM_ENDPOINT: sim.url,
    GRAPH_ENDPOINT: sim.url,
    ENTRA_AUTHORITY: `${sim.url}/organizations`,
    LOG_ANALYTICS_ENDPOINT: sim.url,
    WORKBENCH_URL: `${sim.url}/workbench`,
    DATABASE_URL: pg.url,
  };
  const child = spawn(path.join("node_modules", ".bin", "tsx"), [path.join("test", "reliability", "concurrent-run-worker.ts"), runId], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    if (out.includes("ready\n")) onReady();
  });
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const report = new Promise<WorkerReport>((resolve, reject) => {
    child.on("exit", (code) => {
      // The engine's own log lines are JSON too: the report carries a prefix.
      const line = out.split("\n").find((l) => l.startsWith("REPORT "));
      if (code !== 0 || !line) reject(new Error(`worker exited with ${code}: ${err.slice(-2000)}`));
      else resolve(JSON.parse(line.slice("REPORT ".length)) as WorkerReport);
    });
  });
  return { ready, report, go: () => child.stdin.end("go\n") };
}

const tokens: TokenProvider = async (resource) => ({
  ok: true,
  token: await simToken(simA, { upn: OWNER, resource }),
  expiresOn: new Date(Date.now() + 3_600_000),
});

async function runningRun(plan: unknown) {
  const run = await createRun({
    tenantId: TENANT,
    createdByUserId: null,
    createdByUpn: OWNER,
    config: defaultRunConfig(),
    steps: STEP_IDS,
  });
  expect(await setRunPlan(run.id, plan as never)).toBe(true);
  expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
  expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
  return run;
}

describe("concurrency on PostgreSQL", () => {
  it("the same run continued from two processes at once writes everything exactly once; another run proceeds in parallel", async () => {
    // Both simulators hold the same scenario, so one plan fits both runs.
    const first = await createRun({
      tenantId: TENANT,
      createdByUserId: null,
      createdByUpn: OWNER,
      config: defaultRunConfig(),
      steps: STEP_IDS,
    });
    const plan = await planRun({ config: defaultRunConfig(), tenantId: TENANT, tokens, modules: STEP_MODULES, runId: first.id });
    const runA = await runningRun(plan);
    const runB = await runningRun(plan);
    await Promise.all([simA, simB].map((s) => simJson(s, "DELETE", "/_sim/requests")));

    // Each worker loads first; then all three are released at the same instant.
    const workers = [worker(simA, runA.id), worker(simA, runA.id), worker(simB, runB.id)];
    await Promise.all(workers.map((w) => w.ready));
    const startAt = Date.now();
    for (const w of workers) w.go();
    const [a1, a2, b] = await Promise.all(workers.map((w) => w.report));
    if (!a1 || !a2 || !b) throw new Error("missing worker report");
    console.log(
      `concurrency: ${JSON.stringify([a1, a2, b].map((r) => ({ run: r.runId === runA.id ? "A" : "B", outcome: r.result.outcome, code: r.result.code, ms: r.ended - r.started, lateBy: r.started - startAt })))}`,
    );

    for (const [run, sim] of [
      [runA, simA],
      [runB, simB],
    ] as const) {
      const loaded = await getRunForTenant(run.id, TENANT);
      expect(loaded?.status).toBe("completed");
      expect(loaded?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));
      // Exactly once: no write succeeded twice in the write-ahead log (a retried replication error adds a failed entry
      // first), and each creating request succeeded in Azure once.
      const keys = (await listOperations(run.id)).filter((o) => o.status === "succeeded").map((o) => o.key);
      expect(keys.length).toBeGreaterThan(10);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
      const log = (await simJson(sim, "GET", "/_sim/requests")).body as { method: string; url: string; status: number }[];
      const writes = log
        .filter((r) => ["PUT", "POST", "PATCH"].includes(r.method) && r.status < 400 && !/checkNameAvailability|\/_sim\//i.test(r.url))
        .map((r) => `${r.method} ${r.url.split("?")[0] ?? ""}`);
      const creating = writes.filter((w) =>
        /storageaccounts\/[^/]+$|diagnosticsettings\/|roledefinitions\/|roleassignments\/|applications\(uniquename|addpassword$|security-devices$/i.test(
          w,
        ),
      );
      expect(creating.length).toBeGreaterThanOrEqual(15);
      expect(creating.filter((w, i) => creating.indexOf(w) !== i)).toEqual([]);
    }
    // Of the two processes on run A, at least one carried it to the end; the other never made a second write (above).
    expect([a1, a2].some((r) => r.result.outcome === "completed")).toBe(true);
    // Run B overlapped run A in time: different runs don't wait for each other.
    const aEnd = Math.max(a1.ended, a2.ended);
    expect(b.started).toBeLessThan(aEnd);
    expect(b.ended).toBeGreaterThan(Math.min(a1.started, a2.started));
  }, 300_000);
});
