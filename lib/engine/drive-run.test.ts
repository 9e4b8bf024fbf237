import { describe, expect, it } from "vitest";
import { AzureOperationError, toAzureError } from "@/lib/azure/errors";
import { acquireStepLease, getRunForTenant, listAuditEvents, listOperations, setRunStatus } from "@/lib/db";
import { needsOf, STEP_IDS, type StepId } from "@/lib/steps/registry";
import type { StepModule } from "@/lib/steps/types";
import { runRemainingSteps } from "./drive-run";
import { planRun } from "./plan-run";
import { resumeInterruptedSteps } from "./recover";
import {
  ACTOR,
  FakeAzure,
  type FakeLive,
  fakeModules,
  fakeStep,
  fakeTime,
  okTokens,
  realSleep,
  runningRun,
  testConfig,
  setupEngineDb,
} from "@/test/support/engine";

setupEngineDb("run");

describe("runRemainingSteps", () => {
  it("runs every step after the steps it needs, passing outputs along, and completes the run", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const result = await runRemainingSteps({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(azure),
    });
    expect(result).toEqual({ outcome: "completed" });
    const loaded = await getRunForTenant(run.id, run.tenantId);
    expect(loaded?.status).toBe("completed");
    expect(loaded?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));
    // Each step sees the outputs of what it needs, and only those.
    for (const step of loaded?.steps ?? [])
      expect(step.outputs, step.stepId).toMatchObject({ upstream: STEP_IDS.filter((id) => needsOf(step.stepId as StepId).includes(id)) });
    expect(azure.creates).toBe(STEP_IDS.length);
    // Each step's write comes after the writes of every step it needs.
    const order = (await listOperations(run.id)).map((o) => o.stepId as StepId);
    expect([...order].sort()).toEqual([...STEP_IDS].sort());
    for (const id of STEP_IDS) for (const need of needsOf(id)) expect(order.indexOf(need)).toBeLessThan(order.indexOf(id));
    expect((await listAuditEvents(run.tenantId, { limit: 1 }))[0]).toMatchObject({ action: "run.completed", target: run.id });
  });

  it("a step done with exceptions lets the run go on: it completes, with the step's attention stored and audited", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const item = {
      kind: "cluster" as const,
      subject: "aks2",
      resourceId: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/aks2",
      code: "diagnostic_settings_limit",
      reason: "It already has 5 diagnostic settings.",
      action: "Remove one, then extend.",
    };
    const fake = fakeStep("diagnostic-settings", azure);
    const partial: StepModule = { ...fake, verify: async (ctx, out) => ({ ...(await fake.verify(ctx, out as never)), attention: [item] }) };
    const result = await runRemainingSteps({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(azure, { "diagnostic-settings": partial }),
    });
    expect(result).toEqual({ outcome: "completed", attention: [item] });
    const loaded = await getRunForTenant(run.id, run.tenantId);
    expect(loaded?.status).toBe("completed");
    expect(loaded?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));
    expect(loaded?.steps.find((s) => s.stepId === "diagnostic-settings")?.attention).toEqual([item]);
    expect(loaded?.steps.find((s) => s.stepId === "storage")?.attention).toBeUndefined();
    const audit = await listAuditEvents(run.tenantId, { limit: 20 });
    expect(audit[0]).toMatchObject({ action: "run.completed", outcome: "success", detail: { clustersNeedingAttention: ["aks2"] } });
    expect(audit.find((e) => e.action === "step.done" && e.target === "diagnostic-settings")).toMatchObject({
      detail: { attention: [{ subject: "aks2", code: "diagnostic_settings_limit" }] },
    });
  });

  it("a failure holds back only the steps that need it: the independent branch finishes, then the run fails", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    let laterReads = 0;
    const counting = (id: (typeof STEP_IDS)[number]) => fakeStep(id, azure, { onRead: () => void (laterReads += 1) });
    const broken = fakeStep("app-registration", azure, {
      beforeWrite: () =>
        Promise.reject(toAzureError({ statusCode: 400, code: "InvalidRequest", message: "bad" }, { action: "create the app" })),
    });
    const result = await runRemainingSteps({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(azure, {
        "app-registration": broken,
        "role-assignments": counting("role-assignments"),
        "workbench-handoff": counting("workbench-handoff"),
        verification: counting("verification"),
      }),
      ...fakeTime(),
    });
    expect(result).toMatchObject({
      outcome: "failed",
      stepId: "app-registration",
      result: { ok: false, code: "invalid_request" },
      failures: [{ stepId: "app-registration" }],
    });
    const loaded = await getRunForTenant(run.id, run.tenantId);
    expect(loaded?.status).toBe("failed");
    expect(loaded?.steps.map((s) => s.status)).toEqual(["done", "done", "failed", "done", "pending", "pending", "pending"]);
    expect(laterReads).toBe(0);
    expect(azure.creates).toBe(3);
    expect((await listAuditEvents(run.tenantId, { limit: 1 }))[0]).toMatchObject({
      action: "run.failed",
      detail: { stepId: "app-registration", code: "invalid_request" },
    });

    // Nothing runs on a run that isn't running, and it never rejects.
    expect(
      await runRemainingSteps({ runId: run.id, tenantId: run.tenantId, actor: ACTOR, tokens: okTokens, modules: fakeModules(azure) }),
    ).toMatchObject({ outcome: "stopped", code: "not_running" });
    expect(
      await runRemainingSteps({ runId: "missing", tenantId: run.tenantId, actor: ACTOR, tokens: okTokens, modules: fakeModules(azure) }),
    ).toMatchObject({ outcome: "stopped", code: "not_found" });
  });

  it("leaves the run running when a step is busy elsewhere", async () => {
    const run = await runningRun();
    expect(await acquireStepLease(run.id, "storage", "other-admin:1", 60_000)).toBe(true);
    const result = await runRemainingSteps({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(new FakeAzure()),
    });
    expect(result).toMatchObject({ outcome: "stopped", code: "busy", stepId: "storage" });
    const loaded = await getRunForTenant(run.id, run.tenantId);
    expect(loaded?.status).toBe("running");
    // Nothing that needs the busy step starts; what was already under way beside it finishes.
    expect(loaded?.steps.find((s) => s.stepId === "diagnostic-settings")?.status).toBe("pending");
    expect(loaded?.steps.find((s) => s.stepId === "role-assignments")?.status).toBe("pending");
  });
});

/** A step module that records when each execution of it starts (read) and ends (verify), on a shared clock. */
function timed(module: StepModule, log: { stepId: StepId; start: number; end: number }[]): StepModule {
  return {
    ...module,
    async read(ctx) {
      log.push({ stepId: module.id, start: performance.now(), end: Number.POSITIVE_INFINITY });
      return module.read(ctx);
    },
    async verify(ctx, out) {
      const verdict = await module.verify(ctx, out);
      const entry = log.findLast((e) => e.stepId === module.id);
      if (entry) entry.end = performance.now();
      return verdict;
    },
  };
}

/** Lets its callers through once `count` of them wait at once, or after `timeoutMs` (then they never met). */
function meeting(count: number, timeoutMs: number) {
  let waiting = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    most: 0,
    async arrive(): Promise<void> {
      waiting += 1;
      this.most = Math.max(this.most, waiting);
      if (waiting >= count) open();
      await Promise.race([opened, realSleep(timeoutMs)]);
      waiting -= 1;
    },
  };
}

const permanent = (what: string) => () =>
  Promise.reject(toAzureError({ statusCode: 400, code: "InvalidRequest", message: "bad" }, { action: what }));

describe("runRemainingSteps over the step graph", () => {
  it("runs independent steps at the same time and each step only after everything it needs", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const log: { stepId: StepId; start: number; end: number }[] = [];
    // The three steps that need nothing each wait inside their write until all three are there (or 5 s pass).
    const roots = meeting(3, 5_000);
    const modules = Object.fromEntries(
      STEP_IDS.map((id) => [id, timed(fakeStep(id, azure, needsOf(id).length ? {} : { beforeWrite: () => roots.arrive() }), log)]),
    ) as Record<StepId, StepModule>;
    const result = await runRemainingSteps({ runId: run.id, tenantId: run.tenantId, actor: ACTOR, tokens: okTokens, modules });
    expect(result).toEqual({ outcome: "completed" });
    expect(roots.most).toBe(3);

    const span = (id: StepId) => {
      const entries = log.filter((e) => e.stepId === id);
      expect(entries).toHaveLength(1);
      return entries[0] ?? { start: 0, end: 0 };
    };
    const rootSpans = (["storage", "app-registration", "custom-role"] as const).map(span);
    // Measured overlap: the last of the three started before the first of them ended.
    expect(Math.max(...rootSpans.map((r) => r.start))).toBeLessThan(Math.min(...rootSpans.map((r) => r.end)));
    for (const id of STEP_IDS) for (const need of needsOf(id)) expect(span(id).start).toBeGreaterThanOrEqual(span(need).end);
    expect(azure.creates).toBe(STEP_IDS.length);
  });

  it("fails the run once both independent branches have settled, naming every failed step, and a Retry runs them and the rest", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const reads = new Map<StepId, number>();
    const counted = (id: StepId, hooks: Parameters<typeof fakeStep>[2] = {}) =>
      fakeStep(id, azure, { ...hooks, onRead: () => void reads.set(id, (reads.get(id) ?? 0) + 1) });
    const modules = Object.fromEntries(STEP_IDS.map((id) => [id, counted(id)])) as Record<StepId, StepModule>;
    const result = await runRemainingSteps({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      modules: {
        ...modules,
        "diagnostic-settings": counted("diagnostic-settings", { beforeWrite: permanent("create the setting") }),
        "app-registration": counted("app-registration", { beforeWrite: permanent("create the app") }),
      },
      ...fakeTime(),
    });
    expect(result).toMatchObject({
      outcome: "failed",
      failures: [{ stepId: "diagnostic-settings" }, { stepId: "app-registration" }],
    });
    let loaded = await getRunForTenant(run.id, run.tenantId);
    expect(loaded?.status).toBe("failed");
    expect(loaded?.steps.map((s) => s.status)).toEqual(["done", "failed", "failed", "done", "pending", "pending", "pending"]);
    expect(reads.get("role-assignments")).toBeUndefined();
    expect((await listAuditEvents(run.tenantId, { limit: 1 }))[0]).toMatchObject({
      action: "run.failed",
      detail: { failedSteps: ["diagnostic-settings", "app-registration"] },
    });

    // Retry: both failed steps run again, beside each other, then what needs them; done steps are not read again.
    expect(await setRunStatus(run.id, "running", { from: ["failed"] })).toBe(true);
    expect(await runRemainingSteps({ runId: run.id, tenantId: run.tenantId, actor: ACTOR, tokens: okTokens, modules })).toEqual({
      outcome: "completed",
    });
    loaded = await getRunForTenant(run.id, run.tenantId);
    expect(loaded?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));
    expect(Object.fromEntries(reads)).toEqual({
      storage: 1,
      "custom-role": 1,
      "diagnostic-settings": 2,
      "app-registration": 2,
      "role-assignments": 1,
      "workbench-handoff": 1,
      verification: 1,
    });
    expect(azure.creates).toBe(STEP_IDS.length);
  });

  it("a step handed back for sign-in starts nothing new: the steps under way finish and the run stays running", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const reauth = () => Promise.reject(new AzureOperationError("reauth_required", "Your sign-in expired. Sign in again to continue."));
    // Custom role waits inside its write until storage has been handed back, so it is under way when the stop comes.
    let storageHandedBack!: () => void;
    const handedBack = new Promise<void>((resolve) => (storageHandedBack = resolve));
    const storage = fakeStep("storage", azure, { beforeWrite: reauth });
    const result = await runRemainingSteps({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(azure, {
        storage: { ...storage, apply: (ctx, live) => storage.apply(ctx, live as FakeLive).finally(storageHandedBack) } as StepModule,
        "custom-role": fakeStep("custom-role", azure, { beforeWrite: () => Promise.race([handedBack, realSleep(5_000)]) }),
      }),
      ...fakeTime(),
    });
    expect(result).toMatchObject({ outcome: "stopped", code: "reauth_required", stepId: "storage" });
    const loaded = await getRunForTenant(run.id, run.tenantId);
    expect(loaded?.status).toBe("running");
    expect(loaded?.steps.map((s) => s.status)).toEqual(["pending", "pending", "done", "done", "pending", "pending", "pending"]);
  });

  it("two servers driving the same run execute each step once, and the run completes", async () => {
    for (let round = 0; round < 3; round += 1) {
      const run = await runningRun();
      const azure = new FakeAzure();
      const reads = new Map<StepId, number>();
      // Each server has its own module instances over the one Azure; a short real write keeps the two drives overlapping.
      const server = () =>
        Object.fromEntries(
          STEP_IDS.map((id) => [
            id,
            fakeStep(id, azure, {
              onRead: () => void reads.set(id, (reads.get(id) ?? 0) + 1),
              beforeWrite: () => realSleep(5 + round * 10),
            }),
          ]),
        ) as Record<StepId, StepModule>;
      const drive = () => runRemainingSteps({ runId: run.id, tenantId: run.tenantId, actor: ACTOR, tokens: okTokens, modules: server() });
      const results = await Promise.all([drive(), drive()]);
      expect(results.filter((r) => r.outcome === "completed")).toHaveLength(1);
      expect(results.filter((r) => r.outcome === "failed")).toHaveLength(0);
      expect((await getRunForTenant(run.id, run.tenantId))?.status).toBe("completed");
      expect(Object.fromEntries(reads)).toEqual(Object.fromEntries(STEP_IDS.map((id) => [id, 1])));
      expect(azure.creates).toBe(STEP_IDS.length);
      expect((await listOperations(run.id)).filter((o) => o.status === "succeeded")).toHaveLength(STEP_IDS.length);
    }
  });
});

describe("planRun", () => {
  it("reads and plans every step without writing, reporting read errors as values", async () => {
    const azure = new FakeAzure();
    azure.create("storage-res");
    const creates = azure.creates;
    const forbidden = fakeStep("custom-role", azure, {
      onRead: () =>
        Promise.reject(
          toAzureError(
            { statusCode: 403, code: "AuthorizationFailed", message: "no" },
            { action: "read the custom role", requiredRole: "Reader" },
          ),
        ),
    });
    // A step that (wrongly) writes while planning is refused, not obeyed.
    const writer: StepModule = {
      ...fakeStep("workbench-handoff", azure),
      plan: () => [],
      read: async (ctx) => ctx.write({ key: "k", kind: "create", target: "t" }, () => Promise.resolve(azure.create("sneaky"))),
    };
    const planned = await planRun({
      config: testConfig(),
      tenantId: testConfig().tenantId,
      tokens: okTokens,
      modules: fakeModules(azure, { "custom-role": forbidden, "workbench-handoff": writer }),
      ...fakeTime(),
    });

    expect(planned.map((p) => p.stepId)).toEqual([...STEP_IDS]);
    expect(planned[0]?.changes).toMatchObject([{ action: "no-change", resource: "storage-res" }]);
    expect(planned[1]?.changes).toMatchObject([{ action: "create", resource: "diagnostic-settings-res" }]);
    expect(planned[3]).toMatchObject({ stepId: "custom-role", changes: [], error: { code: "forbidden", requiredRole: "Reader" } });
    expect(planned[5]).toMatchObject({ stepId: "workbench-handoff", changes: [], error: { code: "unknown" } });
    expect(azure.creates).toBe(creates);
    expect(azure.resources.has("sneaky")).toBe(false);
  });
});

describe("resumeInterruptedSteps", () => {
  it("marks steps whose lease expired (a crash) pending with an interrupted error, and leaves live ones alone", async () => {
    const crashed = await runningRun();
    const live = await runningRun();
    expect(await acquireStepLease(crashed.id, "storage", "dead-instance:1", 50)).toBe(true);
    expect(await acquireStepLease(live.id, "storage", "live-instance:1", 60_000)).toBe(true);
    await realSleep(100);

    const flagged = await resumeInterruptedSteps();
    expect(flagged).toContainEqual({ runId: crashed.id, tenantId: crashed.tenantId, stepId: "storage" });
    expect(flagged.some((f) => f.runId === live.id)).toBe(false);
    const step = (await getRunForTenant(crashed.id, crashed.tenantId))?.steps[0];
    expect(step).toMatchObject({ status: "pending", leaseOwner: null, error: { code: "interrupted" } });
    expect((await getRunForTenant(live.id, live.tenantId))?.steps[0]).toMatchObject({ status: "running", leaseOwner: "live-instance:1" });
    expect((await listAuditEvents(crashed.tenantId, { limit: 1 }))[0]).toMatchObject({ action: "step.interrupted", actorUpn: "system" });

    // Nothing is left to flag, and the run resumes from the interrupted step.
    expect((await resumeInterruptedSteps()).some((f) => f.runId === crashed.id)).toBe(false);
    const resumed = await runRemainingSteps({
      runId: crashed.id,
      tenantId: crashed.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(new FakeAzure()),
    });
    expect(resumed).toEqual({ outcome: "completed" });
  });
});
