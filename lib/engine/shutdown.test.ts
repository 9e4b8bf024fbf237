// The drain of a graceful shutdown: no new step or job, writes under way finish and are logged, the rest handed back.
import { afterEach, describe, expect, it } from "vitest";
import { getRunForTenant, listOperations, stepLease } from "@/lib/db";
import type { StepModule } from "@/lib/steps/types";
import { ACTOR, FakeAzure, fakeModules, okTokens, realSleep, runningRun, setupEngineDb } from "@/test/support/engine";
import { runRemainingSteps } from "./drive-run";
import { executeStep } from "./execute-step";
import { runJob } from "./job";
import { drain, draining, installShutdownHandlers, resetDrainForTests, ShutdownError, trackJob, unlessShutDown } from "./shutdown";

setupEngineDb("shutdown");

afterEach(() => resetDrainForTests());

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A storage step that writes `count` resources one after another; `inWrite(i)` runs inside the i-th remote call. */
function storageWriting(azure: FakeAzure, count: number, inWrite: (i: number) => Promise<void>): StepModule {
  return {
    id: "storage",
    read: () => Promise.resolve(null),
    plan: () => [],
    async apply(ctx) {
      for (let i = 1; i <= count; i++) {
        await ctx.write({ key: `storage.res:${i}`, kind: "create", target: `res${i}` }, async () => {
          azure.create(`res${i}`);
          await inWrite(i);
          return i;
        });
      }
      return { written: count };
    },
    verify: () => Promise.resolve({ ok: true, checks: [] }),
  };
}

const stepOf = async (runId: string, tenantId: string, stepId: string) =>
  (await getRunForTenant(runId, tenantId))?.steps.find((s) => s.stepId === stepId);

describe("drain", () => {
  it("answers at once with no job under way, and marks the process draining", async () => {
    expect(draining()).toBe(false);
    const summary = await drain({ graceMs: 10_000 });
    expect(summary).toMatchObject({ ended: 0, cutOff: 0, hanging: 0 });
    expect(summary.ms).toBeLessThan(1_000);
    expect(draining()).toBe(true);
    // Idempotent: a second signal joins the first drain.
    expect(await drain({ graceMs: 10_000 })).toBe(summary);
  });

  it("lets a write under way finish and be logged, then starts no other step", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const inFlight = deferred();
    const finishWrite = deferred();
    const modules = fakeModules(azure, {
      storage: storageWriting(azure, 1, async () => {
        inFlight.resolve();
        await finishWrite.promise;
      }),
    });
    const driving = runRemainingSteps({ runId: run.id, tenantId: run.tenantId, actor: ACTOR, tokens: okTokens, modules });
    await inFlight.promise;
    const drained = drain({ graceMs: 10_000 });
    finishWrite.resolve();
    const summary = await drained;
    expect(summary.cutOff).toBe(0);
    expect(summary.ended).toBeGreaterThanOrEqual(1);
    expect(await driving).toMatchObject({ outcome: "stopped", code: "interrupted" });

    const after = await getRunForTenant(run.id, run.tenantId);
    expect(after?.status).toBe("running");
    const status = Object.fromEntries(after?.steps.map((s) => [s.stepId, s.status]) ?? []);
    // The write under way finished and its step completed; what needed storage never started.
    expect(status.storage).toBe("done");
    expect(status["diagnostic-settings"]).toBe("pending");
    expect(after?.steps.find((s) => s.stepId === "diagnostic-settings")?.attempts).toBe(0);
    expect(after?.steps.every((s) => s.leaseOwner === null)).toBe(true);
    expect((await listOperations(run.id)).filter((o) => o.stepId === "storage").map((o) => `${o.key}:${o.status}`)).toEqual([
      "storage.res:1:succeeded",
    ]);
  });

  it("stops a step before its next write and hands it back as interrupted, lease released", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const inFlight = deferred();
    const finishWrite = deferred();
    const storage = storageWriting(azure, 3, async (i) => {
      if (i !== 1) return;
      inFlight.resolve();
      await finishWrite.promise;
    });
    const executing = executeStep({
      runId: run.id,
      tenantId: run.tenantId,
      stepId: "storage",
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(azure, { storage }),
    });
    await inFlight.promise;
    const drained = drain({ graceMs: 10_000 });
    finishWrite.resolve();
    expect(await drained).toMatchObject({ ended: 1, cutOff: 0, hanging: 0 });
    expect(await executing).toMatchObject({ ok: false, code: "interrupted", status: "pending" });

    expect([...azure.resources.keys()]).toEqual(["res1"]);
    expect((await listOperations(run.id)).map((o) => `${o.key}:${o.status}`)).toEqual(["storage.res:1:succeeded"]);
    const step = await stepOf(run.id, run.tenantId, "storage");
    expect(step).toMatchObject({ status: "pending", leaseOwner: null, leaseExpiresAt: null, error: { code: "interrupted" } });
  });

  it("cuts off a job still running after the grace period: its release hands the step back at once", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const inFlight = deferred();
    // A write that never answers (a request no limit reaches).
    const storage = storageWriting(azure, 1, () => (inFlight.resolve(), new Promise<never>(() => {})));
    const executing = executeStep({
      runId: run.id,
      tenantId: run.tenantId,
      stepId: "storage",
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(azure, { storage }),
    });
    await inFlight.promise;
    const started = Date.now();
    expect(await drain({ graceMs: 200 })).toMatchObject({ ended: 0, cutOff: 1, hanging: 0 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await executing).toMatchObject({ ok: false, code: "interrupted" });
    const step = await stepOf(run.id, run.tenantId, "storage");
    expect(step).toMatchObject({ status: "pending", leaseOwner: null, error: { code: "interrupted" } });
    // The write's intent stays without an outcome: a resume re-reads Azure before writing, as after a crash.
    expect((await listOperations(run.id)).map((o) => `${o.key}:${o.status}`)).toEqual(["storage.res:1:intent"]);
  });

  it("starts no job once draining: the lease is not taken and the work never runs", async () => {
    const run = await runningRun();
    await drain({ graceMs: 0 });
    let ran = false;
    const result = await runJob({
      lease: stepLease(run.id, "storage"),
      owner: "late",
      ttlMs: 60_000,
      stallMs: 60_000,
      work: async () => {
        ran = true;
      },
      release: () => Promise.resolve(true),
    });
    expect(result).toMatchObject({ kind: "ended", end: { kind: "crashed" }, released: false });
    expect(result.kind === "ended" && result.end.kind === "crashed" && result.end.error).toBeInstanceOf(ShutdownError);
    expect(ran).toBe(false);
    expect(await stepOf(run.id, run.tenantId, "storage")).toMatchObject({ status: "pending", attempts: 0, leaseOwner: null });
  });

  it("leaves no listener behind on the process-wide signal for jobs that ended", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 50; i++) expect(await unlessShutDown(Promise.resolve(i))).toBe(i);
      // Node warns about a possible leak past 10 listeners on one signal; warnings are emitted on the next tick.
      await realSleep(10);
      expect(warnings).toEqual([]);
      // Work still running when the grace period ends is cut off.
      const hanging = unlessShutDown(new Promise<never>(() => {}));
      await drain({ graceMs: 0 });
      await expect(hanging).rejects.toBeInstanceOf(ShutdownError);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("waits for a tracked job that ends within the grace period", async () => {
    const job = trackJob(realSleep(100).then(() => "done"));
    const summary = await drain({ graceMs: 5_000 });
    expect(summary).toMatchObject({ ended: 1, cutOff: 0 });
    expect(summary.ms).toBeGreaterThanOrEqual(90);
    expect(await job).toBe("done");
  });
});

describe("installShutdownHandlers", () => {
  it("does not wait for a database close that hangs longer than the release bound", async () => {
    const saved = { SIGTERM: process.listeners("SIGTERM"), SIGINT: process.listeners("SIGINT") };
    const handedOver = deferred();
    let report: { databaseClosed: boolean } | undefined;
    try {
      process.removeAllListeners("SIGINT");
      process.on("SIGINT", () => handedOver.resolve());
      installShutdownHandlers({
        graceMs: 0,
        releaseMs: 100,
        closeDatabase: () => new Promise<never>(() => {}),
        report: (s) => (report = s),
      });
      const started = Date.now();
      process.emit("SIGINT", "SIGINT");
      await handedOver.promise;
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(report).toMatchObject({ signal: "SIGINT", databaseClosed: false });
    } finally {
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.removeAllListeners(signal);
        for (const listener of saved[signal]) process.on(signal, listener);
      }
    }
  });

  it("on SIGTERM drains, closes the database, then hands the signal to the handlers that were there before", async () => {
    const saved = { SIGTERM: process.listeners("SIGTERM"), SIGINT: process.listeners("SIGINT") };
    const order: string[] = [];
    const handedOver = deferred();
    try {
      process.on("SIGTERM", (signal) => {
        order.push(`previous handler: ${signal}`);
        handedOver.resolve();
      });
      const slowJob = trackJob(realSleep(100).then(() => order.push("job ended")));
      installShutdownHandlers({
        graceMs: 5_000,
        closeDatabase: async () => {
          order.push("database closed");
        },
        report: (s) => order.push(`report: ${s.signal} ended=${s.ended} closed=${s.databaseClosed}`),
      });
      process.emit("SIGTERM", "SIGTERM");
      // The handler it replaced did not run on the signal itself, only after the drain.
      expect(order).toEqual([]);
      await handedOver.promise;
      await slowJob;
      expect(order).toEqual(["job ended", "database closed", "report: SIGTERM ended=1 closed=true", "previous handler: SIGTERM"]);
    } finally {
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.removeAllListeners(signal);
        for (const listener of saved[signal]) process.on(signal, listener);
      }
    }
  });
});
