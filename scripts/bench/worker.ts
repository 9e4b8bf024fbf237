// One benchmark scenario in its own process (the "portal" whose RSS is measured): plan, run and re-run with the real engine.
// Started by scripts/bench.ts with the portal's environment pointed at the bench simulator; prints one BENCH_RESULT line.
import "../server-only-shim";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import {
  closeDb,
  configureDb,
  confirmRunPlan,
  createRun,
  getRunForTenant,
  migrate,
  setRunPlan,
  setRunStatus,
  upsertUser,
  type StepRun,
} from "../../lib/db";
import { buildStepContext } from "../../lib/engine/context";
import { DEFAULT_POLICY } from "../../lib/engine/policy";
import { runRemainingSteps } from "../../lib/engine/drive-run";
import { planRun } from "../../lib/engine/plan-run";
import { STEP_MODULES } from "../../lib/engine/step-modules";
import { type TokenProvider } from "../../lib/auth/tokens";
import { STEP_IDS, type StepId } from "../../lib/steps/registry";
import type { StepContext, StepModule } from "../../lib/steps/types";
import { countRequests, type LoggedRequest } from "./model";
import { BENCH_OWNER, buildRunConfig, buildScenario, BENCH_SHAPES } from "./scenarios";

// Verification (step 7) only reads, and how long it waits depends on when the first logs arrive, not on the portal:
// the bench measures the six provisioning steps.
const PROVISIONING_STEPS = STEP_IDS.filter((s) => s !== "verification");

const argsSchema = z.object({
  scenario: z.string().min(1),
  simUrl: z.string().url(),
  dataDir: z.string().min(1),
  timeScale: z.coerce.number().positive().max(1),
  /** postgres://… or "pglite" (the embedded database, in dataDir). */
  database: z.union([z.literal("pglite"), z.string().regex(/^postgres(ql)?:\/\//)]),
});
const [scenarioName, simUrl, dataDir, timeScale, database] = process.argv.slice(2);
const args = argsSchema.parse({ scenario: scenarioName, simUrl, dataDir, timeScale, database });
// The simulator's replication window is time-scaled; the engine's replication backoff is scaled alike, so the ratio of
// the two is the real one (DEFAULT_POLICY: 2 s doubling to 30 s, 5 min budget).
const policy = {
  replicationBaseDelayMs: Math.round(DEFAULT_POLICY.replicationBaseDelayMs * args.timeScale),
  replicationMaxDelayMs: Math.round(DEFAULT_POLICY.replicationMaxDelayMs * args.timeScale),
  replicationBudgetMs: Math.round(DEFAULT_POLICY.replicationBudgetMs * args.timeScale),
};

const logSchema = z.array(
  z.object({ time: z.string(), method: z.string(), url: z.string(), status: z.number(), caller: z.string().nullable() }),
);
const tokenSchema = z.object({ access_token: z.string().min(1) });

async function sim(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${args.simUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : ((await res.json()) as unknown);
}

async function takeLog(): Promise<(LoggedRequest & { time: string })[]> {
  const log = logSchema.parse(await sim("GET", "/_sim/requests"));
  await sim("DELETE", "/_sim/requests");
  return log;
}

// The admin's delegated tokens, minted by the simulator like its sign-in flow would. One mint per resource, shared by
// concurrent callers (like MSAL's cache in the portal): the engine's credential asks once per SDK call until it has one.
const minted = new Map<string, Promise<string>>();
const tokens: TokenProvider = async (resource) => {
  let token = minted.get(resource);
  if (!token) {
    token = sim("POST", "/_sim/token", { upn: BENCH_OWNER, resource }).then((b) => tokenSchema.parse(b).access_token);
    minted.set(resource, token);
    token.catch(() => minted.delete(resource));
  }
  return { ok: true, token: await token, expiresOn: new Date(Date.now() + 3_600_000) };
};

/**
 * The engine's own context for a finished run (its write-ahead log and sealed secrets), except that writes run directly
 * and are counted: re-running a finished run must not need any.
 */
function rerunContext(
  stepId: StepId,
  steps: readonly StepRun[],
  tenantId: string,
  config: ReturnType<typeof buildRunConfig>,
  counter: { writes: number },
): StepContext {
  const runId = steps[0]?.runId ?? "";
  const { ctx } = buildStepContext({
    runId,
    tenantId,
    stepId,
    actor: { userId: null, upn: BENCH_OWNER },
    config,
    tokens,
    leaseOwner: "bench-rerun",
    steps,
  });
  return {
    ...ctx,
    async write(_op, write) {
      counter.writes += 1;
      return write();
    },
    progress: () => Promise.resolve(),
  };
}

// Where the memory is at its highest: V8's heap, and "external" (ArrayBuffers and WebAssembly memories, PGlite's among them).
const peakMemory = { heapMb: 0, externalMb: 0 };
setInterval(() => {
  const m = process.memoryUsage();
  peakMemory.heapMb = Math.max(peakMemory.heapMb, m.heapTotal / 1048576);
  peakMemory.externalMb = Math.max(peakMemory.externalMb, m.external / 1048576);
}, 100).unref();

async function main(): Promise<void> {
  const shape = BENCH_SHAPES.find((s) => s.name === args.scenario);
  if (!shape) throw new Error(`unknown scenario ${args.scenario}`);
  const scenario = buildScenario(shape);
  const config = buildRunConfig(scenario);
  const tenantId = scenario.tenant.id;
  configureDb(args.database === "pglite" ? { dataDir: args.dataDir } : { dataDir: args.dataDir, databaseUrl: args.database });
  await migrate();
  const owner = scenario.users[0];
  const user = await upsertUser({
    tenantId,
    objectId: owner?.objectId ?? crypto.randomUUID(),
    upn: BENCH_OWNER,
    displayName: "Bench Owner",
  });
  const actor = { userId: user.id, upn: BENCH_OWNER };

  await takeLog();
  const run = await createRun({ tenantId, createdByUserId: user.id, createdByUpn: BENCH_OWNER, config, steps: PROVISIONING_STEPS });
  const planStart = performance.now();
  const planned = await planRun({ config, tenantId, tokens, modules: STEP_MODULES, runId: run.id, actorUpn: BENCH_OWNER, policy });
  const planMs = performance.now() - planStart;
  const planErrors = planned.filter((p) => p.error).map((p) => `${p.stepId}: ${p.error?.message ?? ""}`);
  if (planErrors.length) throw new Error(`planning failed: ${planErrors.join("; ")}`);
  const planLog = await takeLog();
  if (
    !(await setRunPlan(run.id, planned as never)) ||
    !(await confirmRunPlan(run.id, BENCH_OWNER)) ||
    !(await setRunStatus(run.id, "running", { from: ["planned"] }))
  ) {
    throw new Error("could not confirm the run");
  }

  const runStart = performance.now();
  const runStartedAt = Date.now();
  const cpuStart = process.cpuUsage();
  const machineStart = machineCpu();
  const result = await runRemainingSteps({ runId: run.id, tenantId, actor, tokens, modules: STEP_MODULES, policy });
  const runMs = performance.now() - runStart;
  const cpu = process.cpuUsage(cpuStart);
  const machineEnd = machineCpu();
  const runLog = await takeLog();
  // For finding where the time goes: the run's requests with their times, beside the results.
  fs.writeFileSync(
    path.join(".test-data", "bench", `${shape.name}-run-requests.json`),
    JSON.stringify(runLog.map((r) => ({ time: r.time, method: r.method, url: r.url.split("?")[0], status: r.status }))),
  );
  if (result.outcome !== "completed") throw new Error(`the run did not complete: ${JSON.stringify(result)}`);
  const finished = await getRunForTenant(run.id, tenantId);
  const stepTimes = Object.fromEntries(
    (finished?.steps ?? []).map((s) => [s.stepId, s.startedAt && s.finishedAt ? s.finishedAt.getTime() - s.startedAt.getTime() : null]),
  );
  const stepWindows = Object.fromEntries(
    (finished?.steps ?? []).flatMap((s) =>
      s.startedAt && s.finishedAt ? [[s.stepId, [s.startedAt.getTime() - runStartedAt, s.finishedAt.getTime() - runStartedAt]]] : [],
    ),
  );

  // Re-run the finished run: every step reads Azure, applies and verifies with the outputs it produced.
  const counter = { writes: 0 };
  const rerunStart = performance.now();
  for (const stepId of PROVISIONING_STEPS) {
    const ctx = rerunContext(stepId, finished?.steps ?? [], tenantId, config, counter);
    const mod: StepModule = STEP_MODULES[stepId];
    const out = await mod.apply(ctx, await mod.read(ctx));
    const verdict = await mod.verify(ctx, out);
    if (!verdict.ok) throw new Error(`re-run of ${stepId} did not verify: ${verdict.reason}`);
  }
  const rerunMs = performance.now() - rerunStart;
  const rerunLog = await takeLog();
  await closeDb();

  const rerunCount = countRequests(rerunLog);
  const out = {
    scenario: shape,
    clusters: config.clusters.length,
    plan: planned.flatMap((p) => p.changes.map((c) => ({ stepId: c.stepId, key: c.key, resourceType: c.resourceType, action: c.action }))),
    planMs,
    planRequests: countRequests(planLog),
    runMs,
    runCpuMs: (cpu.user + cpu.system) / 1000,
    // Every process on the machine (engine, simulator, PostgreSQL, anything else): busy core-ms during the run.
    machineBusyMs: machineStart && machineEnd ? machineEnd.busyMs - machineStart.busyMs : null,
    cores: os.availableParallelism(),
    stepTimes,
    stepWindows,
    runRequests: countRequests(runLog),
    runRequestsByStep: requestsByStep(runLog),
    rerunMs,
    rerunWrites: rerunCount.armWrites + rerunCount.graphWrites + rerunWorkbenchWrites(rerunLog),
    rerunEngineWrites: counter.writes,
    rerunRequests: rerunCount,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapMb: peakMemory.heapMb,
    peakExternalMb: peakMemory.externalMb,
  };
  // A pipe takes the line in pieces: process.exit before the last one is flushed would cut it (large's is ~400 kB).
  await new Promise<void>((resolve, reject) =>
    process.stdout.write(`BENCH_RESULT ${JSON.stringify(out)}\n`, (error) => (error ? reject(error) : resolve())),
  );
}

/** Busy CPU time of the whole machine so far, from /proc/stat (Linux; null elsewhere): all cores, idle and iowait excluded. */
function machineCpu(): { busyMs: number } | null {
  try {
    const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    // USER_HZ is 100 on Linux.
    return { busyMs: (user + nice + system + irq + softirq + steal) * 10 };
  } catch {
    return null;
  }
}

/** Workbench writes (POST/DELETE) on re-run. */
function rerunWorkbenchWrites(log: readonly LoggedRequest[]): number {
  return log.filter((r) => r.url.startsWith("/workbench") && r.method !== "GET").length;
}

/** Requests of the run by the step they belong to, from URL patterns (for finding where extra requests come from). */
function requestsByStep(log: readonly LoggedRequest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of log) {
    const u = (r.url.split("?")[0] ?? "").toLowerCase();
    const step = u.startsWith("/workbench")
      ? "workbench-handoff"
      : u.startsWith("/v1.0")
        ? "app-registration"
        : u.includes("diagnosticsettings")
          ? "diagnostic-settings"
          : u.includes("roleassignments") || /\/managedclusters\/[^/]+$/.test(u)
            ? "role-assignments"
            : u.includes("roledefinitions")
              ? "custom-role"
              : "storage";
    out[step] = (out[step] ?? 0) + 1;
  }
  return out;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
