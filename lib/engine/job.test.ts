// The job runner every leased job runs on: busy, release on every way out, lease loss stopping the write-ahead entry.
import { describe, expect, it } from "vitest";
import { acquireLease, getRunForTenant, listOperations, stepLease, type LeaseKey } from "@/lib/db";
import { ACTOR, realSleep, runningRun, setupEngineDb } from "@/test/support/engine";
import { runJob, type JobEnd } from "./job";
import { writeAhead } from "./write-ahead";

setupEngineDb("job");

const MINUTE = 60_000;

describe("runJob", () => {
  it("answers busy without running the work while another execution holds the lease", async () => {
    const run = await runningRun();
    const lease = stepLease(run.id, "storage");
    expect(await acquireLease(lease, "other", MINUTE)).toBe(true);
    let ran = false;
    const result = await runJob({
      lease,
      owner: "me",
      ttlMs: MINUTE,
      stallMs: MINUTE,
      work: async () => {
        ran = true;
      },
      release: () => Promise.resolve(true),
    });
    expect(result).toEqual({ kind: "busy" });
    expect(ran).toBe(false);
  });

  it("hands the end of the work to release, finished or crashed, and reports whether the release went through", async () => {
    const run = await runningRun();
    const ends: JobEnd<unknown>[] = [];
    const job = (lease: LeaseKey, work: () => Promise<string>) =>
      runJob({ lease, owner: "me", ttlMs: MINUTE, stallMs: MINUTE, work, release: (end) => (ends.push(end), Promise.resolve(true)) });

    expect(await job(stepLease(run.id, "storage"), () => Promise.resolve("ok"))).toEqual({
      kind: "ended",
      end: { kind: "finished", value: "ok" },
      released: true,
    });
    const boom = new Error("database went away");
    expect(await job(stepLease(run.id, "custom-role"), () => Promise.reject(boom))).toMatchObject({
      end: { kind: "crashed", error: boom },
      released: true,
    });
    expect(ends.map((e) => e.kind)).toEqual(["finished", "crashed"]);
    // A release that throws (the database is down) counts as not released; the lease lapses on its own.
    const failing = await runJob({
      lease: stepLease(run.id, "app-registration"),
      owner: "me",
      ttlMs: MINUTE,
      stallMs: MINUTE,
      work: () => Promise.resolve(1),
      release: () => Promise.reject(new Error("down")),
    });
    expect(failing).toMatchObject({ kind: "ended", released: false });
  });

  it("cuts off work that stops making progress, even work that ignores the signal, and releases as stalled", async () => {
    const run = await runningRun();
    const started = Date.now();
    const result = await runJob({
      lease: stepLease(run.id, "storage"),
      owner: "me",
      ttlMs: 150,
      stallMs: 100,
      work: () => new Promise<never>(() => {}),
      release: () => Promise.resolve(true),
    });
    expect(result).toMatchObject({ kind: "ended", end: { kind: "stalled" } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("stops the write-ahead entry once the lease is taken over: nothing more is logged or sent", async () => {
    const run = await runningRun();
    const lease = stepLease(run.id, "storage");
    let sent = 0;
    const result = await runJob({
      lease,
      owner: "slow",
      ttlMs: 90,
      stallMs: MINUTE,
      async work(job) {
        const write = writeAhead({ lease, owner: job.owner, tenantId: run.tenantId, actor: ACTOR, live: job.live });
        await write({ key: "storage.rg:1", kind: "create", target: "rg1" }, async () => ++sent);
        // Stop renewing as a frozen process would: the lease lapses and another execution takes the step.
        await job.heartbeat.stop();
        await realSleep(150);
        expect(await acquireLease(lease, "taker", MINUTE)).toBe(true);
        await write({ key: "storage.rg:2", kind: "create", target: "rg2" }, async () => ++sent);
        return "unreachable";
      },
      release: () => Promise.resolve(false),
    });
    expect(result).toMatchObject({ kind: "ended", end: { kind: "lease_lost" } });
    expect(sent).toBe(1);
    expect((await listOperations(run.id)).map((o) => `${o.key}:${o.status}`)).toEqual(["storage.rg:1:succeeded"]);
    const step = (await getRunForTenant(run.id, run.tenantId))?.steps.find((s) => s.stepId === "storage");
    expect(step).toMatchObject({ status: "running", leaseOwner: "taker" });
  });
});
