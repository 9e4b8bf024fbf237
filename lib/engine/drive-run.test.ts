import { describe, expect, it } from "vitest";
import { toAzureError } from "@/lib/azure/errors";
import { acquireStepLease, getRunForTenant, listAuditEvents, listOperations } from "@/lib/db";
import { STEP_IDS } from "@/lib/steps/registry";
import type { StepModule } from "@/lib/steps/types";
import { runRemainingSteps } from "./drive-run";
import { planRun } from "./plan-run";
import { resumeInterruptedSteps } from "./recover";
import {
  ACTOR,
  FakeAzure,
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
  it("runs every step in order, passing outputs along, and completes the run", async () => {
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
    expect(loaded?.steps.at(-1)?.outputs).toMatchObject({ upstream: STEP_IDS.slice(0, -1) });
    expect(azure.creates).toBe(STEP_IDS.length);
    expect((await listOperations(run.id)).map((o) => o.stepId)).toEqual([...STEP_IDS]);
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

  it("stops at the first failure, leaves later steps untouched and fails the run", async () => {
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
        "custom-role": counting("custom-role"),
        "role-assignments": counting("role-assignments"),
        "workbench-handoff": counting("workbench-handoff"),
        verification: counting("verification"),
      }),
      ...fakeTime(),
    });
    expect(result).toMatchObject({ outcome: "failed", stepId: "app-registration", result: { ok: false, code: "invalid_request" } });
    const loaded = await getRunForTenant(run.id, run.tenantId);
    expect(loaded?.status).toBe("failed");
    expect(loaded?.steps.map((s) => s.status)).toEqual(["done", "done", "failed", "pending", "pending", "pending", "pending"]);
    expect(laterReads).toBe(0);
    expect(azure.creates).toBe(2);

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
    expect((await getRunForTenant(run.id, run.tenantId))?.status).toBe("running");
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
