// 30 full engine runs against simulators injecting 20% transient faults of every kind: all complete, nothing is duplicated.
// And a process killed while two independent steps are both mid-write: the resume duplicates nothing and completes.
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FAULT_KINDS, FAULT_RATE, type CrashResumeReport, type FaultRunReport } from "./fault-run-worker";
import { STEP_IDS } from "../../lib/steps/registry";
import { simJson, startTestSimulator } from "../../simulator/src/testing";

const WORKERS = 6;
const REPORT = "REPORT ";
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
            // The engine's own log lines are JSON too: reports carry a prefix.
            .filter((l) => l.startsWith(REPORT))
            .map((l) => JSON.parse(l.slice(REPORT.length)) as FaultRunReport),
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

/** Spawns the worker in crash mode; `lines` collects its JSON lines as they come. */
function crashWorker(args: string[]): { child: ChildProcess; lines: unknown[]; exited: Promise<{ code: number | null; err: string }> } {
  const tsx = path.join("node_modules", ".bin", "tsx");
  const child = spawn(tsx, [path.join("test", "reliability", "fault-run-worker.ts"), "crash", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: tsx runs the script in a child node process, and the kill must reach that one too.
    detached: true,
  });
  const lines: unknown[] = [];
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
    const parts = out.split("\n");
    out = parts.pop() ?? "";
    for (const l of parts) if (l.startsWith(REPORT)) lines.push(JSON.parse(l.slice(REPORT.length)));
  });
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; err: string }>((resolve) => child.on("exit", (code) => resolve({ code, err })));
  return { child, lines, exited };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("a crash while two steps write at once", () => {
  it("killed while storage and app-registration both wait on a write Azure made: the resume writes nothing twice and completes", async () => {
    const sim = await startTestSimulator({ log: () => undefined, blob: true });
    const dataDir = path.join(".test-data", `crash-graph-${crypto.randomBytes(4).toString("hex")}`);
    try {
      await simJson(sim, "POST", "/_sim/latency", {
        body: { lroMs: { storageAccount: 100, providerRegistration: 0 }, replicationMs: 300 },
      });
      // Each write is applied, then its answer held: the process dies knowing only its intents.
      const holds = [
        {
          name: "storage",
          method: "PUT",
          path: "^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Storage/storageAccounts/[^/]+$",
        },
        { name: "app-registration", method: "PATCH", path: "^/v1\\.0/applications\\(uniqueName=" },
      ].map((h) => ({ ...h, nth: 1, phase: "after", ms: 120_000 }));
      expect((await simJson(sim, "POST", "/_sim/holds", { body: { rules: holds } })).status).toBe(200);

      const first = crashWorker(["start", dataDir, sim.url]);
      let held: { name: string; heldAt: string | null }[] = [];
      const deadline = Date.now() + 180_000;
      // Poll until both writes are held at once (the run's steps work side by side), then kill the process outright.
      while (Date.now() < deadline) {
        held = ((await simJson(sim, "GET", "/_sim/holds")).body as { holds: typeof held }).holds;
        if (held.every((h) => h.heldAt !== null)) break;
        await sleep(100);
      }
      expect(held.map((h) => [h.name, h.heldAt !== null])).toEqual([
        ["storage", true],
        ["app-registration", true],
      ]);
      if (first.child.pid !== undefined) process.kill(-first.child.pid, "SIGKILL");
      expect((await first.exited).code).toBeNull();
      const [started] = first.lines as { runId: string }[];
      expect(started?.runId).toBeTruthy();
      await simJson(sim, "DELETE", "/_sim/holds");

      const second = crashWorker(["resume", dataDir, sim.url, started?.runId ?? ""]);
      const { code, err } = await second.exited;
      expect(code, err.slice(-2000)).toBe(0);
      const report = second.lines.at(-1) as CrashResumeReport;
      console.log(`crash while two steps write: ${JSON.stringify(report)}`);
      // Both steps died mid-write (their intents have no outcome) and were flagged as interrupted.
      expect(report.unfinishedWrites).toEqual(expect.arrayContaining(["storage", "app-registration"]));
      expect(report.interrupted).toEqual(expect.arrayContaining(["storage", "app-registration"]));
      expect(report.outcome).toBe("completed");
      expect(report.steps).toEqual(STEP_IDS.map(() => "done"));
      expect(report.duplicates).toEqual([]);
    } finally {
      await sim.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 400_000);
});
