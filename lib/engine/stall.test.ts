// The stall bound: an execution without progress stops renewing its lease, its work is cut off, the step is resumable.
import { describe, expect, it } from "vitest";
import { ambientAbortSignal, noteAnswer } from "@/lib/azure/timeouts";
import { acquireStepLease, getRunForTenant, listAuditEvents, listExpiredRunningSteps, stepLease } from "@/lib/db";
import { executeStep } from "./execute-step";
import { startHeartbeat } from "./heartbeat";
import { ACTOR, FakeAzure, fakeModules, fakeStep, okTokens, realSleep, runningRun, setupEngineDb } from "@/test/support/engine";

setupEngineDb("stall");

const POLICY = { leaseTtlMs: 600, stallMs: 300, transientBaseDelayMs: 10, transientMaxDelayMs: 20 };

async function stepRow(run: { id: string; tenantId: string }, stepId: string) {
  return (await getRunForTenant(run.id, run.tenantId))?.steps.find((s) => s.stepId === stepId);
}

/** An outbound call that never answers but, like the Azure clients, gives up when the execution's signal aborts. */
function hungCall(onAbort: () => void): Promise<never> {
  const signal = ambientAbortSignal();
  return new Promise<never>((_, reject) => {
    signal?.addEventListener("abort", () => {
      onAbort();
      reject(Object.assign(new Error("The operation was aborted."), { name: "AbortError" }));
    });
  });
}

describe("stall bound", () => {
  it("cuts off a step whose call hangs: the call is aborted, the lease released, the step shows interrupted and resumes", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    let aborted = false;
    let hang = true;
    const storage = fakeStep("storage", azure, { onRead: () => (hang ? hungCall(() => (aborted = true)) : undefined) });
    const started = Date.now();
    const result = await executeStep({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      stepId: "storage",
      modules: fakeModules(azure, { storage }),
      policy: POLICY,
    });
    const tookMs = Date.now() - started;

    expect(result).toMatchObject({ ok: false, code: "interrupted", status: "pending" });
    expect(result.ok ? "" : result.message).toMatch(
      /^This step made no progress for 0\.3 s \(a call to Azure or to the portal's database stopped answering\), so the portal stopped it\. Resume to continue/,
    );
    expect(aborted).toBe(true);
    // Noticed at the first beat (every ttl/3 = 200 ms) after 300 ms without progress.
    expect(tookMs).toBeLessThan(2_000);
    expect(await stepRow(run, "storage")).toMatchObject({
      status: "pending",
      leaseOwner: null,
      leaseExpiresAt: null,
      error: { code: "interrupted" },
    });
    const audit = await listAuditEvents(run.tenantId, { limit: 5 });
    expect(audit[0]).toMatchObject({ action: "step.interrupted", target: "storage", outcome: "failure", detail: { reason: "stalled" } });

    hang = false;
    expect(
      await executeStep({
        runId: run.id,
        tenantId: run.tenantId,
        actor: ACTOR,
        tokens: okTokens,
        stepId: "storage",
        modules: fakeModules(azure, { storage }),
        policy: POLICY,
      }),
    ).toMatchObject({ ok: true });
  });

  it("returns even when the hung work ignores the signal, and that work can no longer write", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const storage = fakeStep("storage", azure, { onRead: () => stuck });
    const result = await executeStep({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      stepId: "storage",
      modules: fakeModules(azure, { storage }),
      policy: POLICY,
    });
    expect(result).toMatchObject({ ok: false, code: "interrupted", status: "pending" });
    expect(await stepRow(run, "storage")).toMatchObject({ status: "pending", leaseOwner: null });

    // The abandoned attempt wakes up and tries its write: the write-ahead log refuses it, nothing reaches "Azure".
    release();
    await realSleep(200);
    expect(azure.creates).toBe(0);
  });

  it("keeps a slow step that reports progress, or whose calls keep getting answers, well past the bound", async () => {
    for (const keepAlive of ["progress", "answers"] as const) {
      const run = await runningRun();
      const azure = new FakeAzure();
      const storage = fakeStep("storage", azure, {
        onRead: async (ctx) => {
          // 3 s of work, three times the bound, with a sign of life every 100 ms (a long-running operation's polls): a
          // busy machine may delay one by most of the bound without the step counting as stalled.
          for (let i = 0; i < 30; i++) {
            await realSleep(100);
            if (keepAlive === "progress") await ctx.progress({ done: i, total: 30, label: "working" });
            else noteAnswer();
          }
        },
      });
      const result = await executeStep({
        runId: run.id,
        tenantId: run.tenantId,
        actor: ACTOR,
        tokens: okTokens,
        stepId: "storage",
        modules: fakeModules(azure, { storage }),
        policy: { ...POLICY, leaseTtlMs: 1_500, stallMs: 1_000 },
      });
      expect(result, keepAlive).toMatchObject({ ok: true });
    }
  });

  it("a stalled heartbeat stops renewing, so the lease lapses and the step is found interrupted", async () => {
    const run = await runningRun();
    const owner = "stall-test-owner";
    expect(await acquireStepLease(run.id, "storage", owner, 300)).toBe(true);
    const heartbeat = startHeartbeat(stepLease(run.id, "storage"), owner, 300, { stallMs: 200 });
    await realSleep(900);
    expect(heartbeat.stalled).toBe(true);
    const expired = await listExpiredRunningSteps();
    expect(expired.map((s) => `${s.runId}/${s.stepId}`)).toContain(`${run.id}/storage`);
    expect(await acquireStepLease(run.id, "storage", "someone-else", 60_000)).toBe(true);
    await heartbeat.stop();
  });
});
