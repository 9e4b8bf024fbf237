// The run page under load: 50 clients polling a run in progress (as AutoRefresh does), served by `next start` on a build.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import autocannon from "autocannon";
import { encrypt, randomToken, sha256 } from "../../lib/crypto";
import {
  acquireStepLease,
  closeDb,
  configureDb,
  confirmRunPlan,
  createRun,
  createSession,
  migrate,
  recordAuditEvent,
  releaseStepLease,
  setRunPlan,
  setRunStatus,
  setStepProgress,
  upsertUser,
} from "../../lib/db";
import { STEP_IDS } from "../../lib/steps/registry";
import { bin } from "../run";
import { ensurePostgres } from "../postgres";
import { buildRunConfig, buildScenario, BENCH_OWNER, BENCH_SHAPES } from "./scenarios";

export const PORTAL_PORT = 4802;
const DIST_DIR = ".next-test";
/** AutoRefresh's period (components/onboarding/auto-refresh.tsx). */
const POLL_MS = 1500;
const CLIENTS = 50;
const DURATION_S = 20;

/** Latency percentiles (ms) of one load phase. */
export interface LoadPhase {
  requests: number;
  non2xx: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** What the page-load benchmark measured. */
export interface PageLoadResult {
  clients: number;
  durationS: number;
  pollMs: number;
  /** One client polling: the server time of one render on this machine, without queueing. */
  single: LoadPhase;
  /** 50 clients polling full HTML renders (every poll finds a change: the worst case). */
  html: LoadPhase;
  /** 50 clients polling the change stamp the page polls (/onboarding/{run}/status), nothing changing in between. */
  status: LoadPhase;
  /** One client polling the change stamp: the server time of one poll, without queueing. */
  statusSingle: LoadPhase;
  /** 50 independent clients (one connection each, 1 poll/s, random phase) polling the change stamp while the step works. */
  statusStaggered: LoadPhase;
  portalPeakRssMb: number | null;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

function ensureBuild(env: NodeJS.ProcessEnv, log: (line: string) => void): void {
  if (fs.existsSync(path.join(DIST_DIR, "BUILD_ID"))) {
    log(`page load: using the existing build in ${DIST_DIR}`);
    return;
  }
  log(`page load: building the portal into ${DIST_DIR} (next build)…`);
  const r = spawnSync(bin("next"), ["build"], { env: { ...env, NEXT_DIST_DIR: DIST_DIR }, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`next build exited with ${r.status ?? r.signal}`);
}

/** A medium-scenario run in the database: storage done, diagnostic settings working on 37 of 100 clusters. */
async function seedRunInProgress(encryptionKey: string): Promise<{ runId: string; cookie: string; work: () => () => Promise<void> }> {
  const scenario = buildScenario(BENCH_SHAPES.find((s) => s.name === "medium") ?? BENCH_SHAPES[0]!);
  const config = buildRunConfig(scenario);
  const tenantId = scenario.tenant.id;
  const user = await upsertUser({
    tenantId,
    objectId: scenario.users[0]?.objectId ?? tenantId,
    upn: BENCH_OWNER,
    displayName: "Bench Owner",
  });
  const run = await createRun({ tenantId, createdByUserId: user.id, createdByUpn: BENCH_OWNER, config, steps: STEP_IDS });
  await setRunPlan(run.id, { steps: [] });
  await confirmRunPlan(run.id, BENCH_OWNER);
  await setRunStatus(run.id, "running", { from: ["planned"] });
  const owner = "bench-load-owner";
  const accounts = config.storage.map((s) => ({
    region: s.region,
    subscriptionId: s.subscriptionId,
    resourceGroup: s.resourceGroup,
    name: s.accountName,
    id: `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${s.accountName}`,
    blobEndpoint: `https://${s.accountName}.blob.core.windows.net/`,
    adopted: false,
  }));
  if (!(await acquireStepLease(run.id, "storage", owner, 600_000))) throw new Error("could not lease the storage step");
  await releaseStepLease(run.id, "storage", owner, { status: "done", outputs: { accounts } });
  if (!(await acquireStepLease(run.id, "diagnostic-settings", owner, 600_000)))
    throw new Error("could not lease the diagnostic-settings step");
  await setStepProgress(run.id, "diagnostic-settings", owner, {
    done: 37,
    total: config.clusters.length,
    label: `Diagnostic settings 37 of ${config.clusters.length} clusters`,
  });
  const events = [
    ["run.created", "success"],
    ["run.plan_confirmed", "success"],
    ["step.started", "success"],
    ...accounts.map(() => ["azure.write", "success"]),
    ["step.completed", "success"],
    ["step.started", "success"],
  ];
  for (let i = 0; i < 37; i++) events.push(["azure.write", "success"]);
  for (const [action, outcome] of events) {
    await recordAuditEvent({
      tenantId,
      actorUserId: user.id,
      actorUpn: BENCH_OWNER,
      action: action ?? "azure.write",
      target: run.id,
      runId: run.id,
      outcome: outcome === "success" ? "success" : "failure",
    });
  }
  const token = randomToken();
  const tokenHash = sha256(token);
  await createSession({
    tokenHash,
    userId: user.id,
    homeAccountId: `${user.id}.${tenantId}`,
    tokenCache: encrypt("{}", Buffer.from(encryptionKey, "base64"), tokenHash),
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  // What the engine does to the run while diagnostic settings proceed: progress every 500 ms, an audit event per write.
  const work = () => {
    let stopped = false;
    let done = 37;
    const loop = (async () => {
      while (!stopped) {
        done = Math.min(done + 5, config.clusters.length - 1);
        await setStepProgress(run.id, "diagnostic-settings", owner, {
          done,
          total: config.clusters.length,
          label: `Diagnostic settings ${done} of ${config.clusters.length} clusters`,
        });
        for (let i = 0; i < 5; i++)
          await recordAuditEvent({
            tenantId,
            actorUserId: user.id,
            actorUpn: BENCH_OWNER,
            action: "azure.write",
            target: run.id,
            runId: run.id,
            outcome: "success",
          });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    return async () => {
      stopped = true;
      await loop;
    };
  };
  return { runId: run.id, cookie: `aks_session=${token}`, work };
}

const changeSchema = z.object({ stamp: z.string(), progress: z.record(z.string(), z.object({ done: z.number() })) });

/** The status endpoint's answer, as the page's poll reads it. */
async function readChange(url: string, cookie: string): Promise<z.infer<typeof changeSchema>> {
  return changeSchema.parse(await (await fetch(url, { headers: { cookie } })).json());
}

function startPortal(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin("next"), ["start", "-p", String(PORTAL_PORT)], { env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => reject(new Error("the portal did not start within 120 s")), 120_000);
    const onData = (c: Buffer) => {
      const text = c.toString();
      if (/error/i.test(text)) log(`[portal] ${text.trim()}`);
      if (/Ready in/.test(text)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the portal exited with ${code}`));
    });
  });
}

/** Peak RSS (VmHWM) of a process from /proc, in MB; null where /proc is unavailable. */
function peakRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** `next start` is a wrapper: the server is its child. The largest peak RSS among the portal's process tree. */
function portalPeakRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  const pids = [pid];
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    pids.push(...children);
  } catch {
    // no children listing: the wrapper alone
  }
  const values = pids.map(peakRssMb).filter((v): v is number => v !== null);
  return values.length ? Math.max(...values) : null;
}

/**
 * Autocannon stops sending when a phase ends, but the server still works off the requests queued so far: wait until a
 * poll is answered promptly again (or 60 s), so the next phase doesn't measure the previous one's backlog.
 */
async function drain(url: string, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const started = performance.now();
    await (await fetch(url, { headers })).arrayBuffer();
    if (performance.now() - started < 250) return;
  }
}

async function loadPhase(url: string, headers: Record<string, string>, clients: number): Promise<LoadPhase> {
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url, connections: clients, duration: DURATION_S, overallRate: Math.round((clients * 1000) / POLL_MS), headers },
      (err, r) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(r)),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      times.push(responseTime);
    });
  });
  times.sort((a, b) => a - b);
  return {
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    rps: result.requests.average,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    max: times.at(-1) ?? Number.NaN,
  };
}

/**
 * autocannon's overallRate runs min(clients, rate) connections whose per-second quotas restart together: every second
 * all of them fire at once. Browsers poll on their own clocks, so this phase runs one autocannon instance per client
 * (one connection, 1 request/s: 1.5× the page's rate), each started at a random offset within the first second.
 */
async function staggeredPhase(url: string, headers: Record<string, string>, clients: number): Promise<LoadPhase> {
  const times: number[] = [];
  const results = await Promise.all(
    Array.from({ length: clients }, async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      return new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon({ url, connections: 1, connectionRate: 1, duration: DURATION_S, headers }, (err, r) =>
          err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(r),
        );
        instance.on("response", (_client, _status, _bytes, responseTime) => {
          times.push(responseTime);
        });
      });
    }),
  );
  times.sort((a, b) => a - b);
  const sum = (f: (r: autocannon.Result) => number) => results.reduce((a, r) => a + f(r), 0);
  return {
    requests: sum((r) => r.requests.total),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors + r.timeouts),
    rps: sum((r) => r.requests.average),
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    max: times.at(-1) ?? Number.NaN,
  };
}

/** Build (if needed), start the portal on PostgreSQL, seed a run in progress and a session, and poll its page. */
export async function runPageLoad(input: { simUrl: string; env: NodeJS.ProcessEnv; log: (line: string) => void }): Promise<PageLoadResult> {
  const { env, log } = input;
  ensureBuild(env, log);
  const database = await ensurePostgres();
  let portal: ChildProcess | undefined;
  try {
    configureDb({ databaseUrl: database.url, dataDir: path.join(".test-data", "bench", "portal") });
    await migrate();
    const { runId, cookie, work } = await seedRunInProgress(env.ENCRYPTION_KEY ?? "");
    const portalUrl = `http://127.0.0.1:${PORTAL_PORT}`;
    portal = await startPortal(
      {
        ...env,
        NEXT_DIST_DIR: DIST_DIR,
        DATABASE_URL: database.url,
        PORTAL_URL: portalUrl,
        DATA_DIR: path.join(".test-data", "bench", "portal"),
      },
      log,
    );
    const pageUrl = `${portalUrl}/onboarding/${runId}`;
    const check = await fetch(pageUrl, { headers: { cookie }, redirect: "manual" });
    const html = await check.text();
    if (check.status !== 200 || !html.includes("Diagnostic settings 37 of 100 clusters"))
      throw new Error(`the run page did not render the run in progress (status ${check.status})`);
    // Warm-up: first renders compile and cache route modules. Full HTML renders: a browser's router.refresh() asks for the
    // RSC payload only, but Next 16 answers RSC requests without its _rsc cache-busting hash with a redirect, so the bench
    // polls the HTML page, which renders the same server components and serialises HTML on top (an upper bound).
    for (let i = 0; i < 10; i++) await (await fetch(pageUrl, { headers: { cookie } })).arrayBuffer();
    const line = (name: string, p: LoadPhase) =>
      `  ${name}: ${p.requests} requests, ${p.rps.toFixed(1)}/s, p50 ${p.p50.toFixed(0)} ms, p95 ${p.p95.toFixed(0)} ms, p99 ${p.p99.toFixed(0)} ms, non-2xx ${p.non2xx}, errors ${p.errors}`;
    log(`page load: 1 client polling ${pageUrl} every ${POLL_MS} ms for ${DURATION_S} s…`);
    const single = await loadPhase(pageUrl, { cookie }, 1);
    log(line("1 client", single));
    log(`page load: ${CLIENTS} clients polling every ${POLL_MS} ms for ${DURATION_S} s…`);
    const htmlPhase = await loadPhase(pageUrl, { cookie }, CLIENTS);
    log(line(`${CLIENTS} clients`, htmlPhase));
    const statusUrl = `${pageUrl}/status`;
    await drain(statusUrl, { cookie });
    log(`page load: 1 client polling ${statusUrl} every ${POLL_MS} ms for ${DURATION_S} s…`);
    const statusSingle = await loadPhase(statusUrl, { cookie }, 1);
    log(line("1 client, change stamp", statusSingle));
    log(
      `page load: ${CLIENTS} clients polling ${statusUrl} every ${POLL_MS} ms for ${DURATION_S} s while the step reports progress and writes…`,
    );
    const before = await readChange(statusUrl, cookie);
    const stopWork = work();
    const statusPhase = await loadPhase(statusUrl, { cookie }, CLIENTS);
    await stopWork();
    const after = await readChange(statusUrl, cookie);
    // The page re-renders only when the stamp moves: progress and a working step's writes must not move it.
    const progressMoved = (after.progress["diagnostic-settings"]?.done ?? 0) > (before.progress["diagnostic-settings"]?.done ?? 0);
    if (!progressMoved || after.stamp !== before.stamp)
      throw new Error("the change stamp moved with progress, or progress did not reach the status endpoint");
    log(line(`${CLIENTS} clients, change stamp`, statusPhase));
    log(
      `  progress ${before.progress["diagnostic-settings"]?.done ?? 0} → ${after.progress["diagnostic-settings"]?.done ?? 0} during the phase, stamp unchanged: 0 re-renders`,
    );
    await drain(statusUrl, { cookie });
    log(
      `page load: ${CLIENTS} independent clients (random phase, 1 poll/s each) polling ${statusUrl} for ${DURATION_S} s while the step works…`,
    );
    const stopWorkAgain = work();
    const statusStaggered = await staggeredPhase(statusUrl, { cookie }, CLIENTS);
    await stopWorkAgain();
    log(line(`${CLIENTS} clients, change stamp, random phase`, statusStaggered));
    const rss = portalPeakRssMb(portal.pid);
    return {
      clients: CLIENTS,
      durationS: DURATION_S,
      pollMs: POLL_MS,
      single,
      html: htmlPhase,
      status: statusPhase,
      statusSingle,
      statusStaggered,
      portalPeakRssMb: rss,
    };
  } finally {
    if (portal && portal.exitCode === null) {
      const exited = new Promise((r) => portal?.once("exit", r));
      portal.kill("SIGTERM");
      await exited;
    }
    await closeDb();
    await database.drop();
  }
}
