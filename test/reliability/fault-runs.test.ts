// 30 full engine runs against simulators injecting 20% transient faults of every kind: all complete, nothing is duplicated.
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FAULT_KINDS, FAULT_RATE, type FaultRunReport } from "./fault-run-worker";
import { STEP_IDS } from "../../lib/steps/registry";

const WORKERS = 6;
const RUNS_PER_WORKER = 5;

/** Runs one worker process (own simulator and PGlite) and collects its reports. */
function runWorker(worker: number): Promise<FaultRunReport[]> {
  return new Promise((resolve, reject) => {
    const tsx = path.join("node_modules", ".bin", "tsx");
    const child = spawn(tsx, [path.join("test", "reliability", "fault-run-worker.ts"), String(worker), String(RUNS_PER_WORKER)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`fault worker ${worker} exited with ${code}: ${err.slice(-2000)}`));
      else
        resolve(
          out
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as FaultRunReport),
        );
    });
  });
}

describe("fault injection", () => {
  it(`${WORKERS * RUNS_PER_WORKER} runs with ${FAULT_RATE * 100}% injected faults (429 with Retry-After, 500, 503, replication errors, slow LROs) all complete without duplicates`, async () => {
    const started = Date.now();
    const rows = (await Promise.all(Array.from({ length: WORKERS }, (_, w) => runWorker(w)))).flat();
    const wall = Date.now() - started;
    const retried = (r: FaultRunReport) => Object.values(r.faults).reduce((a, b) => a + b, 0);
    const total = (k: string) => rows.reduce((n, r) => n + (r.faults[k] ?? 0), 0);
    const header = ["worker", "run", "ms", "requests", ...FAULT_KINDS, "retried"].join("\t");
    const lines = rows.map((r) => [r.worker, r.run, r.ms, r.requests, ...FAULT_KINDS.map((k) => r.faults[k] ?? 0), retried(r)].join("\t"));
    const sums = [
      "all",
      "",
      rows.reduce((n, r) => n + r.ms, 0),
      rows.reduce((n, r) => n + r.requests, 0),
      ...FAULT_KINDS.map(total),
      rows.reduce((n, r) => n + retried(r), 0),
    ];
    console.log(
      `fault injection: ${rows.length} runs, rate ${FAULT_RATE}, ${WORKERS} workers, ${wall} ms wall\n${header}\n${lines.join("\n")}\n${sums.join("\t")}`,
    );

    expect(rows).toHaveLength(WORKERS * RUNS_PER_WORKER);
    for (const r of rows) {
      expect(r.outcome, `worker ${r.worker} run ${r.run}`).toBe("completed");
      expect(r.steps).toEqual(STEP_IDS.map(() => "done"));
      expect(r.duplicates, `worker ${r.worker} run ${r.run}`).toEqual([]);
    }
    // Every kind was injected and survived; retries stay bounded (each fault costs one more request, not a cascade).
    for (const k of FAULT_KINDS) expect(total(k), `${k} injected`).toBeGreaterThan(0);
    const counts = rows.map(retried);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(60);
    const faultFree = Math.min(...rows.map((r) => r.requests - retried(r)));
    expect(Math.max(...rows.map((r) => r.requests))).toBeLessThanOrEqual(faultFree * 2);
  }, 600_000);
});
