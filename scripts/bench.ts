// `npm run bench [-- --scenario small|medium|large …] [--no-load] [--load-only] [--pglite] [--time-scale 1] [--engine-heap-mb 256] [--engine-semi-space-mb 32]`: performance
// benchmark (docs/BENCHMARKS.md).
// Starts its own simulator (port 4801, .test-data/bench), runs each scenario's engine in a child process, compares wall time
// and requests with the model in scripts/bench/model.ts, then (unless --no-load) measures the run page under 50 clients.
import "./server-only-shim";
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { loadAzureProfile, scaledLatency } from "../simulator/src/profile";
import { ensureCa } from "../simulator/src/tls";
import { STEP_IDS, STEP_NEEDS } from "../lib/steps/registry";
import {
  chainOf,
  criticalPath,
  minimumRequests,
  totalOf,
  type ModelLatency,
  type PlanLine,
  type RequestCount,
  type StepNeeds,
} from "./bench/model";
import { runPageLoad, type PageLoadResult } from "./bench/page-load";
import { BENCH_SHAPES, buildScenario } from "./bench/scenarios";
import { ensurePostgres } from "./postgres";
import { bin, startService } from "./run";

const root = path.resolve(__dirname, "..");
process.chdir(root);
const BENCH_DIR = path.join(".test-data", "bench");
const SIM_PORT = 4801;
const CLIENT = { id: "5d0f6a1e-3b2c-4d5e-8f90-a1b2c3d4e5f6", secret: crypto.randomBytes(18).toString("base64url") };
const WORKBENCH_KEY = crypto.randomBytes(18).toString("base64url");
const PROFILE_FILE = path.join("simulator", "profiles", "azure.json");

const { values } = parseArgs({
  options: {
    scenario: { type: "string", multiple: true },
    "no-load": { type: "boolean", default: false },
    "load-only": { type: "boolean", default: false },
    pglite: { type: "boolean", default: false },
    /** Overrides the profile's timeScale for the simulator's waits and the engine's replication backoff alike (1 = real Azure). */
    "time-scale": { type: "string" },
    /** Caps the engine's V8 old space (--max-old-space-size, MB): peak RSS with a bounded heap, beside the default's. */
    "engine-heap-mb": { type: "string" },
    /** Sets V8's young generation (--max-semi-space-size, MB): fewer short-lived objects promoted to the old space. */
    "engine-semi-space-mb": { type: "string" },
  },
});
function megabytesOption(name: "engine-heap-mb" | "engine-semi-space-mb", min: number): number | undefined {
  const value = values[name] === undefined ? undefined : Number(values[name]);
  if (value !== undefined && !(Number.isInteger(value) && value >= min))
    throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
  return value;
}
const engineHeapMb = megabytesOption("engine-heap-mb", 64);
const engineSemiSpaceMb = megabytesOption("engine-semi-space-mb", 1);

const countSchema = z.object({
  armReads: z.number(),
  armWrites: z.number(),
  graphReads: z.number(),
  graphWrites: z.number(),
  workbench: z.number(),
  throttled: z.number(),
});
const workerResultSchema = z.object({
  scenario: z.object({ name: z.string(), subscriptions: z.number(), clusters: z.number(), regions: z.number() }),
  clusters: z.number(),
  plan: z.array(z.object({ stepId: z.string(), key: z.string(), resourceType: z.string(), action: z.string() })),
  planMs: z.number(),
  planRequests: countSchema,
  runMs: z.number(),
  runCpuMs: z.number(),
  machineBusyMs: z.number().nullable(),
  cores: z.number(),
  stepTimes: z.record(z.string(), z.number().nullable()),
  stepWindows: z.record(z.string(), z.tuple([z.number(), z.number()])),
  runRequests: countSchema,
  runRequestsByStep: z.record(z.string(), z.number()),
  rerunMs: z.number(),
  rerunWrites: z.number(),
  rerunEngineWrites: z.number(),
  rerunRequests: countSchema,
  peakRssMb: z.number(),
  peakHeapMb: z.number(),
  peakExternalMb: z.number(),
});
type WorkerResult = z.infer<typeof workerResultSchema>;

/** One scenario's figures, with the model's yardsticks and the goals. */
export interface ScenarioReport {
  name: string;
  shape: string;
  wallMs: number;
  /** CPU the engine process used during the run. */
  engineCpuMs: number;
  /** Busy CPU of the whole machine during the run (engine, simulator, database, anything else), and of how many cores. */
  machineBusyMs: number | null;
  cores: number;
  /** Critical path on the step graph (STEP_NEEDS), the steps along it, and each step's modelled duration and finish. */
  criticalPathMs: number;
  criticalPathVia: string[];
  criticalPathSteps: Record<string, number>;
  criticalPathFinish: Record<string, number>;
  /** The same plan with every step after the one before it (the engine before it ran by dependency). */
  sequentialPathMs: number;
  /** Both at real Azure's waits (the profile unscaled): a projection from the model, not a measurement. */
  realAzure: { graphMs: number; sequentialMs: number; via: string[] };
  ratio: number;
  ratioGoal: number;
  stepTimes: Record<string, number | null>;
  /** Each step's start and end in ms from the run's start, as the engine recorded them. */
  stepWindows: Record<string, [number, number]>;
  requests: number;
  minimumRequests: number;
  requestRatio: number;
  minimumByStep: Record<string, RequestCount>;
  requestsByStep: Record<string, number>;
  planMs: number;
  planRequests: number;
  rerunWrites: number;
  rerunMs: number;
  throttled: number;
  peakRssMb: number;
  /** Highest V8 heap and "external" memory (ArrayBuffers, WebAssembly memories) seen, sampled every 100 ms. */
  peakHeapMb: number;
  peakExternalMb: number;
  workbenchRequests: number;
}

/** JSON call to the simulator's control API over HTTPS, trusting its CA (this process starts without NODE_EXTRA_CA_CERTS). */
function simCall(url: string, ca: Buffer, method: string, p: string, body?: unknown): Promise<unknown> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${url}${p}`,
      { method, ca, headers: payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${p}: ${res.statusCode} ${text.slice(0, 500)}`));
          else resolve(text ? (JSON.parse(text) as unknown) : undefined);
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function runWorker(scenario: string, env: NodeJS.ProcessEnv, simUrl: string, timeScale: number): Promise<WorkerResult> {
  const dataDir = path.join(BENCH_DIR, `db-${scenario}-${crypto.randomBytes(3).toString("hex")}`);
  // PostgreSQL (production's database) unless --pglite: PGlite's WASM heap alone peaks near 900 MB during migrations.
  const database = values.pglite ? undefined : await ensurePostgres();
  try {
    return await spawnWorker(scenario, env, simUrl, timeScale, dataDir, database?.url ?? "pglite");
  } finally {
    await database?.drop();
  }
}

function spawnWorker(
  scenario: string,
  env: NodeJS.ProcessEnv,
  simUrl: string,
  timeScale: number,
  dataDir: string,
  database: string,
): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const heap = [
      ...(engineHeapMb === undefined ? [] : [`--max-old-space-size=${engineHeapMb}`]),
      ...(engineSemiSpaceMb === undefined ? [] : [`--max-semi-space-size=${engineSemiSpaceMb}`]),
    ];
    const child = spawn(bin("tsx"), [...heap, "scripts/bench/worker.ts", scenario, simUrl, dataDir, String(timeScale), database], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("exit", (code) => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      if (code !== 0 || !line) {
        reject(new Error(`bench worker for ${scenario} exited with ${code}:\n${out.slice(-2000)}`));
        return;
      }
      // A throw here would end the bench without stopping the simulator: reject instead.
      try {
        resolve(workerResultSchema.parse(JSON.parse(line.slice("BENCH_RESULT ".length))));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

// The bench measures the provisioning steps (the worker leaves verification out).
const PROVISIONING = STEP_IDS.filter((id) => id !== "verification");
const GRAPH: StepNeeds = Object.fromEntries(PROVISIONING.map((id) => [id, STEP_NEEDS[id].filter((n) => n !== "verification")]));
const CHAIN = chainOf(PROVISIONING);

function report(r: WorkerResult, l: ModelLatency, real: ModelLatency): ScenarioReport {
  const plan: PlanLine[] = r.plan;
  const cp = criticalPath(plan, l, GRAPH);
  const realGraph = criticalPath(plan, real, GRAPH);
  const minimum = minimumRequests(plan);
  const minTotal = Object.values(minimum).reduce((a, c) => a + totalOf(c), 0);
  const made = totalOf(r.runRequests);
  const largest = r.scenario.name === "large";
  return {
    name: r.scenario.name,
    shape: `${r.scenario.subscriptions} subscription(s) × ${r.clusters} clusters in ${r.scenario.regions} region(s)`,
    wallMs: r.runMs,
    engineCpuMs: r.runCpuMs,
    machineBusyMs: r.machineBusyMs,
    cores: r.cores,
    criticalPathMs: cp.totalMs,
    criticalPathVia: cp.path,
    criticalPathSteps: cp.steps,
    criticalPathFinish: cp.finishMs,
    sequentialPathMs: criticalPath(plan, l, CHAIN).totalMs,
    realAzure: { graphMs: realGraph.totalMs, sequentialMs: criticalPath(plan, real, CHAIN).totalMs, via: realGraph.path },
    ratio: r.runMs / cp.totalMs,
    ratioGoal: largest ? 1.3 : 1.15,
    stepTimes: r.stepTimes,
    stepWindows: r.stepWindows,
    requests: made,
    minimumRequests: minTotal,
    requestRatio: made / minTotal,
    minimumByStep: minimum,
    requestsByStep: r.runRequestsByStep,
    planMs: r.planMs,
    planRequests: totalOf(r.planRequests),
    rerunWrites: r.rerunWrites,
    rerunMs: r.rerunMs,
    throttled: r.runRequests.throttled + r.planRequests.throttled + r.rerunRequests.throttled,
    peakRssMb: r.peakRssMb,
    peakHeapMb: r.peakHeapMb,
    peakExternalMb: r.peakExternalMb,
    workbenchRequests: r.runRequests.workbench,
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mark = (ok: boolean) => (ok ? "met" : "MISSED");

function printScenario(x: ScenarioReport): void {
  console.log(`\n== ${x.name}: ${x.shape}`);
  console.log(
    `  wall time (run)        ${s(x.wallMs)}   critical path ${s(x.criticalPathMs)}   ratio ${x.ratio.toFixed(2)} (goal ≤ ${x.ratioGoal}: ${mark(x.ratio <= x.ratioGoal)})`,
  );
  console.log(`  critical path          ${x.criticalPathVia.join(" → ")}; steps one after another: ${s(x.sequentialPathMs)}`);
  console.log(
    `  at real-Azure waits    graph ${s(x.realAzure.graphMs)} (${x.realAzure.via.join(" → ")}), one after another ${s(x.realAzure.sequentialMs)} (model)`,
  );
  const busy = x.machineBusyMs === null ? "" : `, machine busy ${s(x.machineBusyMs)} of ${s(x.wallMs * x.cores)} (${x.cores} cores × wall)`;
  console.log(`  CPU during the run     engine ${s(x.engineCpuMs)}${busy}`);
  console.log(
    `  per step wall / model  ${Object.entries(x.criticalPathSteps)
      .map(([k, v]) => `${k} ${s(x.stepTimes[k] ?? 0)}/${s(v)}`)
      .join(", ")}`,
  );
  console.log(
    `  steps ran (from start) ${Object.entries(x.stepWindows)
      .map(
        ([k, [a, b]]) =>
          `${k} ${(a / 1000).toFixed(2)}–${(b / 1000).toFixed(2)} (model ends ${((x.criticalPathFinish[k] ?? 0) / 1000).toFixed(2)})`,
      )
      .join(", ")}`,
  );
  console.log(
    `  ARM+Graph requests     ${x.requests} vs minimum ${x.minimumRequests}: ${x.requestRatio.toFixed(2)}× (goal ≤ 1.1: ${mark(x.requestRatio <= 1.1)})`,
  );
  console.log(
    `  requests by step       ${Object.entries(x.requestsByStep)
      .map(
        ([k, v]) =>
          `${k} ${v}/${totalOf(x.minimumByStep[k] ?? { armReads: 0, armWrites: 0, graphReads: 0, graphWrites: 0, workbench: 0 }, k === "workbench-handoff")}`,
      )
      .join(", ")}`,
  );
  console.log(`  plan (before confirm)  ${s(x.planMs)}, ${x.planRequests} requests`);
  console.log(`  re-run of finished run ${x.rerunWrites} writes (goal 0: ${mark(x.rerunWrites === 0)}), ${s(x.rerunMs)}`);
  console.log(`  429s received          ${x.throttled}`);
  console.log(
    `  engine peak RSS        ${x.peakRssMb.toFixed(0)} MB (goal ≤ 400: ${mark(x.peakRssMb <= 400)}); V8 heap ${x.peakHeapMb.toFixed(0)} MB, external (WebAssembly, buffers) ${x.peakExternalMb.toFixed(0)} MB at most`,
  );
}

async function main(): Promise<void> {
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  const loaded = loadAzureProfile(PROFILE_FILE);
  const scale = values["time-scale"] === undefined ? loaded.timeScale : Number(values["time-scale"]);
  if (!(scale > 0 && scale <= 1)) throw new Error(`--time-scale must be in (0, 1], got ${values["time-scale"]}`);
  const profile = { ...loaded, timeScale: scale };
  const latency = scaledLatency(profile);
  const per = latency.perRequestMs ?? { armRead: 0, armWrite: 0, graphRead: 0, graphWrite: 0 };
  const model: ModelLatency = {
    ...per,
    other: latency.requestMs,
    storageLroMs: latency.lroMs.storageAccount ?? 0,
    providerRegistrationMs: latency.lroMs.providerRegistration ?? 0,
    replicationMs: latency.replicationMs,
    writeBurst: profile.armThrottle.writes.burst,
    writeRefillPerSecond: profile.armThrottle.writes.refillPerSecond,
  };
  // The profile as real Azure has it: waits not scaled.
  const realAzure: ModelLatency = {
    ...model,
    storageLroMs: profile.lroMs.storageAccount ?? 0,
    providerRegistrationMs: profile.lroMs.providerRegistration ?? 0,
    replicationMs: profile.replicationMs,
  };
  const simDir = path.join(BENCH_DIR, "simulator");
  const simUrl = `https://127.0.0.1:${SIM_PORT}`;
  // The simulator reuses this CA (its default <data-dir>/ca); the engine process trusts it through NODE_EXTRA_CA_CERTS.
  const caPath = path.resolve(ensureCa(path.join(simDir, "ca")).caPath);
  const ca = fs.readFileSync(caPath);
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const c of children) c.kill("SIGTERM");
  };
  process.on("SIGINT", () => {
    stop();
    process.exit(130);
  });
  try {
    children.push(
      await startService(
        "simulator",
        bin("tsx"),
        // "=": a base64url value may start with "-", which parseArgs would take for an option.
        [
          "simulator/main.ts",
          "--port",
          String(SIM_PORT),
          "--no-blob",
          "--data-dir",
          simDir,
          "--client-id",
          CLIENT.id,
          `--client-secret=${CLIENT.secret}`,
          `--workbench-api-key=${WORKBENCH_KEY}`,
        ],
        { ...process.env },
        /simulator ready/,
      ),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: "production",
      NODE_EXTRA_CA_CERTS: caPath,
      ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64"),
      ENTRA_CLIENT_ID: CLIENT.id,
      ENTRA_CLIENT_SECRET: CLIENT.secret,
      ENTRA_AUTHORITY: `${simUrl}/organizations`,
      ARM_ENDPOINT: simUrl,
      GRAPH_ENDPOINT: simUrl,
      WORKBENCH_URL: `${simUrl}/workbench`,
      WORKBENCH_API_KEY: WORKBENCH_KEY,
    };
    const names = values.scenario?.length ? values.scenario : BENCH_SHAPES.map((x) => x.name);
    const reports: ScenarioReport[] = [];
    console.log(
      `profile ${PROFILE_FILE}: ARM read ${per.armRead} ms, write ${per.armWrite} ms; Graph read ${per.graphRead} ms, write ${per.graphWrite} ms; other ${latency.requestMs} ms; storage LRO ${model.storageLroMs} ms, replication ${model.replicationMs} ms (waits × ${profile.timeScale})`,
    );
    if (!values["load-only"]) {
      for (const name of names) {
        const shape = BENCH_SHAPES.find((x) => x.name === name);
        if (!shape) throw new Error(`unknown scenario ${name}; choose from ${BENCH_SHAPES.map((x) => x.name).join(", ")}`);
        await simCall(simUrl, ca, "POST", "/_sim/reset", buildScenario(shape));
        await simCall(simUrl, ca, "POST", "/_sim/latency", latency);
        const r = report(await runWorker(name, env, simUrl, profile.timeScale), model, realAzure);
        printScenario(r);
        reports.push(r);
      }
    }
    let load: PageLoadResult | undefined;
    if (!values["no-load"]) load = await runPageLoad({ simUrl, env, log: (line) => console.log(line) });
    const file = path.join(BENCH_DIR, "results.json");
    fs.writeFileSync(
      file,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          node: process.version,
          database: values.pglite ? "pglite" : "postgresql",
          profile: latency,
          model,
          realAzure,
          reports,
          load,
        },
        null,
        2,
      ),
    );
    console.log(`\nresults: ${file}`);
  } finally {
    stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
